// The client's transports against the real libvirtd: SSH through a real OpenSSH server (key and
// known_hosts from the credentials, the daemon's socket relayed with `nc -U` as libvirt's own ssh
// transport does), TLS with client certificates through a TLS endpoint that requires them, and
// plain TCP. libvirtd's own TCP/TLS listeners stay off on this shared machine, so TLS and TCP
// are terminated by a relay in front of its unix socket; the protocol spoken end to end is the
// same.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtDriver } from '../src/hypervisors/libvirt/driver.js';
import { LibvirtClient } from '../src/hypervisors/libvirt/rpc/client.js';
import { eventually } from './support/kube.js';
import { virshOk } from './support/libvirt.js';
import { ROOT } from './support/paths.js';

const SOCKET = '/var/run/libvirt/libvirt-sock';
const dir = mkdtempSync(join(tmpdir(), 'bp-transport-'));
const servers: Server[] = [];
let sshd: ChildProcess | undefined;
let libVersion: string;

function relay(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const pipeToDaemon = (socket: Socket) => {
  const daemon = connect({ path: SOCKET });
  socket.pipe(daemon).pipe(socket);
  socket.on('error', () => daemon.destroy());
  daemon.on('error', () => socket.destroy());
};

const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

beforeAll(async () => {
  libVersion = /Using library: libvirt (\S+)/.exec(await virshOk(['version']))![1]!;
});

afterAll(() => {
  for (const s of servers) s.close();
  sshd?.kill();
});

describe('libvirt transports', () => {
  it('qemu+tcp: talks to the daemon through a TCP stream', async () => {
    const port = await relay(createServer(pipeToDaemon));
    const client = new LibvirtClient({ uri: `qemu+tcp://127.0.0.1:${port}/system` });
    expect(await client.libvirtVersion()).toBe(libVersion);
    expect((await client.listPools()).map((p) => p.name)).toContain('default');
    await client.close();
  });

  it('qemu+tls: presents the client certificate from the credentials and verifies the server against the CA', async () => {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=bootplane test CA', '-days', '2']);
    for (const who of ['server', 'client']) {
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? 'localhost' : 'bootplane'}`]);
      writeFileSync(join(dir, `${who}.ext`), who === 'server' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n');
      openssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '2', '-extfile', `${who}.ext`]);
    }
    const pem = (f: string) => readFileSync(join(dir, f), 'utf8');
    let presented: string | undefined;
    const port = await relay(createTlsServer({ key: pem('server.key'), cert: pem('server.crt'), ca: pem('ca.crt'), requestCert: true, rejectUnauthorized: true }, (socket) => {
      presented = socket.getPeerCertificate().subject?.CN as string | undefined;
      pipeToDaemon(socket);
    }));

    // Through the driver, with the Secret's key names, as a Hypervisor would configure it.
    const driver = new LibvirtDriver({
      uri: `qemu+tls://localhost:${port}/system`, storagePool: 'default', maxInFlightCalls: 5, requestTimeoutSeconds: 10,
      credentials: { 'tls.crt': pem('client.crt'), 'tls.key': pem('client.key'), 'ca.crt': pem('ca.crt') },
    });
    const inventory = await driver.inventory(AbortSignal.timeout(10_000));
    expect(inventory.version).toContain(libVersion);
    expect(presented).toBe('bootplane');
    await driver.close();

    // No client certificate: the endpoint refuses the handshake.
    const anonymous = new LibvirtClient({ uri: `qemu+tls://localhost:${port}/system`, credentials: { tlsCa: pem('ca.crt') }, reconnectBaseMs: 10 });
    await expect(anonymous.libvirtVersion()).rejects.toMatchObject({ code: 'LibvirtConnectionLost' });
    await anonymous.close();
    // A server the CA did not sign: refused by the client.
    const untrusted = new LibvirtClient({ uri: `qemu+tls://localhost:${port}/system`, credentials: { tlsCert: pem('client.crt'), tlsKey: pem('client.key') } });
    await expect(untrusted.libvirtVersion()).rejects.toThrow(/certificate/);
    await untrusted.close();
  });

  it('qemu+ssh: reaches the daemon over a real OpenSSH session with the key and known_hosts given', async () => {
    const sshdDir = execFileSync(join(ROOT, 'hack', 'sshd.sh'), { encoding: 'utf8' }).trim().split('\n').pop()!;
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'user')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user.pub')), { mode: 0o600 });
    const port = await relay(createServer()).then((p) => { servers.pop()!.close(); return p; }); // a free port
    writeFileSync(join(dir, 'sshd_config'), [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'PermitRootLogin prohibit-password', 'StrictModes no',
      `PidFile ${join(dir, 'sshd.pid')}`, '',
    ].join('\n'));
    sshd = spawn(join(sshdDir, 'usr/sbin/sshd'), ['-f', join(dir, 'sshd_config'), '-D', '-e'], { env: { ...process.env, LD_LIBRARY_PATH: join(sshdDir, 'usr/lib/x86_64-linux-gnu') }, stdio: 'ignore' });
    await eventually(async () => new Promise<boolean>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    }), 'sshd listening', 10_000, 100);

    const knownHosts = `[127.0.0.1]:${port} ${readFileSync(join(dir, 'host.pub'), 'utf8')}`;
    const key = readFileSync(join(dir, 'user'), 'utf8');
    const client = new LibvirtClient({ uri: `qemu+ssh://root@127.0.0.1:${port}/system`, credentials: { sshPrivateKey: key, sshKnownHosts: knownHosts } });
    expect(await client.libvirtVersion()).toBe(libVersion);
    expect(await client.hostname()).toBe((await virshOk(['hostname'])).trim());
    await client.close();

    // A host key that does not match known_hosts: refused, and the error says why.
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
    const impostor = new LibvirtClient({ uri: `qemu+ssh://root@127.0.0.1:${port}/system`, credentials: { sshPrivateKey: key, sshKnownHosts: `[127.0.0.1]:${port} ${readFileSync(join(dir, 'other.pub'), 'utf8')}` } });
    await expect(impostor.libvirtVersion()).rejects.toThrow(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    await impostor.close();
  });
});
