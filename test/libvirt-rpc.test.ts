// The libvirt RPC client against the real libvirtd (hack/libvirt.sh): every procedure bootplane
// uses, checked against virsh as an independent oracle; the in-flight bound, reconnect, events
// and the guest agent of a booted test guest.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtClient, type LifecycleEventInfo } from '../src/hypervisors/libvirt/rpc/client.js';
import { LibvirtError } from '../src/hypervisors/libvirt/rpc/errors.js';
import { DeviceModifyFlags, ErrorCode } from '../src/hypervisors/libvirt/rpc/protocol.js';
import { eventually, uniqueName } from './support/kube.js';
import { domainType, LIBVIRT_URI, minimalDomainXml, removeDomain, testGuest, virsh, virshOk } from './support/libvirt.js';

let client: LibvirtClient;
const domains: string[] = [];
const volumes: string[] = [];

beforeAll(() => {
  client = new LibvirtClient({ uri: LIBVIRT_URI });
});

afterAll(async () => {
  await client?.close();
  for (const d of domains) await removeDomain(d);
  for (const v of volumes) await virsh(['vol-delete', '--pool', 'default', v]);
});

describe('libvirt RPC client', () => {
  it('reads versions and host facts that match virsh', async () => {
    const version = await virshOk(['version']);
    expect(version).toContain(`Using library: libvirt ${await client.libvirtVersion()}`);
    expect(version).toContain(`Running hypervisor: ${await client.hypervisorType()} ${await client.hypervisorVersion()}`);
    expect((await client.capabilities())).toContain('<capabilities>');
    expect(await client.hostname()).toBe((await virshOk(['hostname'])).trim());
  });

  it('defines, looks up, reads, updates and undefines a domain', async () => {
    const name = uniqueName('bp-rpc');
    domains.push(name);
    const dom = await client.defineDomain(minimalDomainXml(name));
    expect(dom.name).toBe(name);
    expect(dom.id).toBe(-1);
    expect((await virshOk(['domuuid', name])).trim()).toBe(dom.uuid);
    expect(await client.lookupDomainByName(name)).toEqual(dom);
    expect(await client.lookupDomainByUuid(dom.uuid)).toEqual(dom);
    expect((await client.listDomains()).map((d) => d.name)).toContain(name);
    expect(await client.domainState(dom)).toMatchObject({ state: 'shutoff' });

    const xml = await client.domainXml(dom);
    expect(xml).toContain(`<name>${name}</name>`);
    expect(xml).toBe((await virshOk(['dumpxml', name])).replace(/\n$/, ''));

    // Insert media into the empty CD-ROM of the persistent config, as an ISO attach does.
    await client.updateDevice(dom, `<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/usr/lib/ipxe/ipxe.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>`, DeviceModifyFlags.CONFIG);
    expect(await virshOk(['dumpxml', name])).toContain(`<source file='/usr/lib/ipxe/ipxe.iso'/>`);

    await client.undefineDomain(dom);
    const err = await client.lookupDomainByName(name).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect((err as LibvirtError).libvirtCode).toBe(ErrorCode.NO_DOMAIN);
    expect((err as LibvirtError).code).toBe('LibvirtNoDomain');
    expect((err as LibvirtError).message).toContain(`no domain with matching name '${name}'`);
  });

  it('creates, resizes, uploads into and deletes storage volumes', async () => {
    const pool = await client.lookupPool('default');
    expect((await client.listPools()).map((p) => p.name)).toContain('default');
    expect((await client.poolInfo(pool)).state).toBe(2);

    const disk = `${uniqueName('bp-disk')}.qcow2`;
    volumes.push(disk);
    const vol = await client.createVolume(pool, `<volume><name>${disk}</name><capacity unit='MiB'>64</capacity><target><format type='qcow2'/></target></volume>`);
    expect((await client.volumeInfo(vol)).capacityBytes).toBe(64 * 1024 * 1024);
    await client.resizeVolume(vol, 128 * 1024 * 1024);
    expect(await virshOk(['vol-info', '--pool', 'default', disk, '--bytes'])).toMatch(/Capacity: +134217728 bytes/);
    const shrink = await client.resizeVolume(vol, 32 * 1024 * 1024).catch((e: unknown) => e);
    expect(shrink).toBeInstanceOf(LibvirtError);
    expect((shrink as LibvirtError).message).toMatch(/shrink/i);
    expect((await client.listVolumes(pool)).map((v) => v.name)).toContain(disk);

    // An upload larger than one stream chunk, with a recognisable pattern.
    const raw = `${uniqueName('bp-upload')}.img`;
    volumes.push(raw);
    const data = Buffer.alloc(1024 * 1024 + 1234);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const upload = await client.createVolume(pool, `<volume><name>${raw}</name><capacity>${data.length}</capacity><target><format type='raw'/></target></volume>`);
    await client.uploadVolume(upload, data);
    expect(readFileSync(await client.volumePath(upload)).equals(data)).toBe(true);

    await client.deleteVolume(vol);
    expect((await virsh(['vol-info', '--pool', 'default', disk])).code).not.toBe(0);
  });

  it('never has more calls in flight than the bound', async () => {
    let outstanding = 0;
    let peak = 0;
    const counting = new LibvirtClient({
      uri: LIBVIRT_URI,
      maxInFlightCalls: 2,
      dialer: {
        dial: () => new Promise((resolve, reject) => {
          const s: Socket = connect({ path: '/var/run/libvirt/libvirt-sock' }, () => resolve(s));
          s.once('error', reject);
          const write = s.write.bind(s) as (chunk: Buffer) => boolean;
          s.write = ((chunk: Buffer) => {
            if (chunk.readInt32BE(16) === 0) peak = Math.max(peak, ++outstanding); // a CALL
            return write(chunk);
          }) as typeof s.write;
          s.on('data', (chunk: Buffer) => {
            // Replies are small here, one per chunk or several: count REPLY headers by walking lengths.
            for (let off = 0; off + 28 <= chunk.length; off += chunk.readUInt32BE(off)) if (chunk.readInt32BE(off + 16) === 1) outstanding--;
          });
        }),
      },
    });
    await counting.libvirtVersion();
    peak = 0;
    const results = await Promise.all(Array.from({ length: 20 }, () => counting.listPools()));
    expect(results.every((r) => r.some((p) => p.name === 'default'))).toBe(true);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);
    await counting.close();
  });

  it('reconnects after the connection drops, with events still delivered', async () => {
    let socket: Socket | undefined;
    let dials = 0;
    const dropping = new LibvirtClient({
      uri: LIBVIRT_URI,
      reconnectBaseMs: 50,
      dialer: {
        dial: () => new Promise((resolve, reject) => {
          dials++;
          const s = connect({ path: '/var/run/libvirt/libvirt-sock' }, () => { socket = s; resolve(s); });
          s.once('error', reject);
        }),
      },
    });
    const events: LifecycleEventInfo[] = [];
    await dropping.onLifecycle((e) => events.push(e));
    socket!.destroy();
    await eventually(async () => dropping.connected && dials === 2, 'reconnected in the background');

    const name = uniqueName('bp-evt');
    domains.push(name);
    await virshOk(['define', ...(await writeTemp(minimalDomainXml(name)))]);
    await eventually(async () => events.find((e) => e.domain.name === name && e.event === 'defined'), 'defined event after reconnect');
    await virshOk(['undefine', name]);
    await eventually(async () => events.find((e) => e.domain.name === name && e.event === 'undefined'), 'undefined event');
    await dropping.close();
  });

  it('boots the test guest, sees its lifecycle and talks to its guest agent', async () => {
    const guest = testGuest();
    const name = uniqueName('bp-guest');
    domains.push(name);
    const events: LifecycleEventInfo[] = [];
    const unsubscribe = await client.onLifecycle((e) => { if (e.domain.name === name) events.push(e); });
    const dom = await client.defineDomain(`<domain type='${domainType()}'>
  <name>${name}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
  <devices>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='none'/>
  </devices>
</domain>`);
    const running = await client.createDomain(dom);
    expect(running.id).toBeGreaterThan(0);
    await eventually(async () => events.some((e) => e.event === 'started'), 'started event');
    const ping = await eventually(async () => client.agentCommand(running, '{"execute":"guest-ping"}', 2), 'guest agent answers', 90_000, 1000);
    expect(JSON.parse(ping)).toEqual({ return: {} });
    const hostname = JSON.parse((await client.agentCommand(running, '{"execute":"guest-get-host-name"}'))!) as { return: { 'host-name': string } };
    expect(hostname.return['host-name']).toBe('bootplane-testguest');

    await client.destroyDomain(running);
    await eventually(async () => events.some((e) => e.event === 'stopped'), 'stopped event');
    expect((await virshOk(['domstate', name])).trim()).toBe('shut off');
    const notRunning = await client.agentCommand(running, '{"execute":"guest-ping"}').catch((e: unknown) => e);
    expect((notRunning as LibvirtError).libvirtCode).toBe(ErrorCode.OPERATION_INVALID);
    await unsubscribe();
  }, 180_000);
});

async function writeTemp(content: string): Promise<string[]> {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const file = join(await mkdtemp(join(tmpdir(), 'bp-')), 'domain.xml');
  await writeFile(file, content);
  return [file];
}
