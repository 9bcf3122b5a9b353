// Transports behind one method: a Dialer opens a byte stream to libvirtd. The connection URI
// picks the transport (qemu:///system → unix socket, qemu+tcp, qemu+tls with a client
// certificate, qemu+ssh through `ssh … nc -U <socket>`), and the name sent in CONNECT_OPEN is
// the URI without transport and host, as libvirt's own remote driver sends it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { LibvirtConnectionError, LibvirtError } from './errors.js';

export interface Dialer {
  /** Opens a fresh stream to the daemon; rejects if it cannot within the signal's lifetime. */
  dial(signal?: AbortSignal): Promise<Duplex>;
}

export interface ParsedUri {
  driver: string;
  transport: 'unix' | 'tcp' | 'tls' | 'ssh';
  host?: string;
  port?: number;
  user?: string;
  path: string;
  params: URLSearchParams;
  /** What CONNECT_OPEN gets: driver:///path, without transport, host and transport parameters. */
  remoteName: string;
}

const TRANSPORT_PARAMS = new Set(['socket', 'keyfile', 'known_hosts', 'no_verify', 'pkipath', 'netcat', 'command', 'mode', 'proxy']);

export function parseLibvirtUri(uri: string): ParsedUri {
  const m = /^(qemu|test)(?:\+(unix|tcp|tls|ssh))?:\/\/([^/?]*)(\/[^?]*)?(?:\?(.*))?$/.exec(uri);
  if (!m) throw new LibvirtError('InvalidUri', `spec.libvirt.uri ${JSON.stringify(uri)} is not a libvirt URI (expected e.g. qemu:///system or qemu+tls://host/system)`);
  const [, driver, explicitTransport, authority, path = '/', query = ''] = m;
  const params = new URLSearchParams(query);
  let user: string | undefined;
  let hostPort = authority!;
  const at = hostPort.lastIndexOf('@');
  if (at >= 0) {
    user = decodeURIComponent(hostPort.slice(0, at));
    hostPort = hostPort.slice(at + 1);
  }
  let host: string | undefined;
  let port: number | undefined;
  const pm = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(hostPort);
  if (pm) {
    host = pm[1] ? pm[1].replace(/^\[|\]$/g, '') : undefined;
    port = pm[2] ? Number(pm[2]) : undefined;
  }
  // libvirt's default: a URI with a host and no transport means TLS.
  const transport = (explicitTransport ?? (host ? 'tls' : 'unix')) as ParsedUri['transport'];
  const keep = new URLSearchParams([...params].filter(([k]) => !TRANSPORT_PARAMS.has(k)));
  const remoteName = `${driver}://${path}${keep.size > 0 ? `?${keep.toString()}` : ''}`;
  return { driver: driver!, transport, host, port, user, path, params, remoteName };
}

export interface DialerCredentials {
  /** PEM client certificate, key and CA for TLS. */
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  /** SSH private key and known_hosts for SSH. */
  sshPrivateKey?: string;
  sshKnownHosts?: string;
}

const DEFAULT_SOCKET = '/var/run/libvirt/libvirt-sock';

function socketDial(open: () => Socket, what: string, readyEvent: 'connect' | 'secureConnect', signal?: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = open();
    const onAbort = () => socket.destroy(new LibvirtConnectionError(`dialing ${what} aborted`));
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once(readyEvent, () => {
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      socket.setNoDelay?.(true);
      resolve(socket);
    });
    socket.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new LibvirtConnectionError(`cannot connect to libvirtd at ${what}: ${err.message}`, { cause: err }));
    });
  });
}

export function unixDialer(path = DEFAULT_SOCKET): Dialer {
  return { dial: (signal) => socketDial(() => netConnect({ path }), path, 'connect', signal) };
}

export function tcpDialer(host: string, port = 16509): Dialer {
  return { dial: (signal) => socketDial(() => netConnect({ host, port }), `${host}:${port}`, 'connect', signal) };
}

export function tlsDialer(host: string, port: number, creds: { cert?: string; key?: string; ca?: string; insecureSkipVerify?: boolean }): Dialer {
  return {
    dial: (signal) => socketDial(
      () => tlsConnect({ host, port, servername: host, cert: creds.cert, key: creds.key, ca: creds.ca, rejectUnauthorized: !creds.insecureSkipVerify }),
      `${host}:${port} (TLS)`, 'secureConnect', signal,
    ),
  };
}

/**
 * SSH: the remote end relays the daemon's unix socket over the session's stdio, the way
 * libvirt's own ssh transport runs `nc -U`. The key and known_hosts come from the credentials
 * Secret and live in a private temporary directory for the life of the process.
 */
export function sshDialer(target: { host: string; port?: number; user?: string; socket?: string; command?: string }, creds: DialerCredentials): Dialer {
  return {
    dial: (signal) => new Promise((resolve, reject) => {
      const dir = mkdtempSync(join(tmpdir(), 'bootplane-ssh-'));
      const args = ['-T', '-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=15'];
      if (creds.sshPrivateKey) {
        writeFileSync(join(dir, 'key'), creds.sshPrivateKey.endsWith('\n') ? creds.sshPrivateKey : `${creds.sshPrivateKey}\n`, { mode: 0o600 });
        args.push('-i', join(dir, 'key'), '-o', 'IdentitiesOnly=yes');
      }
      if (creds.sshKnownHosts) {
        writeFileSync(join(dir, 'known_hosts'), creds.sshKnownHosts, { mode: 0o600 });
        args.push('-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes');
      }
      if (target.port) args.push('-p', String(target.port));
      if (target.user) args.push('-l', target.user);
      args.push(target.host, target.command ?? `nc -U ${target.socket ?? DEFAULT_SOCKET}`);
      const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'], signal });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
      const cleanup = () => rmSync(dir, { recursive: true, force: true });
      child.once('error', (err) => { cleanup(); reject(new LibvirtConnectionError(`cannot start ssh to ${target.host}: ${err.message}`, { cause: err })); });
      child.once('spawn', () => {
        // The stream ends when ssh exits, not when its stdout does: then a failed session
        // (host key, auth) surfaces as an error carrying ssh's own message.
        const stream = new Duplex({
          read() { child.stdout.resume(); },
          write(chunk: Buffer, _enc, cb) { child.stdin.write(chunk, cb); },
          final(cb) { child.stdin.end(); cb(); },
          destroy(err, cb) { child.kill(); cb(err); },
        });
        child.stdout.on('data', (d: Buffer) => { if (!stream.push(d)) child.stdout.pause(); });
        child.stdin.on('error', () => undefined); // reported through exit below
        child.once('close', (code) => {
          cleanup();
          if (code === 0) stream.push(null);
          else stream.destroy(new LibvirtConnectionError(`ssh to ${target.host} exited with ${code}: ${stderr.trim() || 'no message'}`));
        });
        resolve(stream);
      });
    }),
  };
}

export function dialerForUri(parsed: ParsedUri, creds: DialerCredentials = {}, insecureSkipVerify = false): Dialer {
  switch (parsed.transport) {
    case 'unix':
      return unixDialer(parsed.params.get('socket') ?? DEFAULT_SOCKET);
    case 'tcp':
      return tcpDialer(parsed.host ?? 'localhost', parsed.port ?? 16509);
    case 'tls':
      return tlsDialer(parsed.host ?? 'localhost', parsed.port ?? 16514, { cert: creds.tlsCert, key: creds.tlsKey, ca: creds.tlsCa, insecureSkipVerify });
    case 'ssh':
      return sshDialer({ host: parsed.host ?? 'localhost', port: parsed.port, user: parsed.user, socket: parsed.params.get('socket') ?? undefined }, creds);
  }
}
