// The libvirt driver's VM operations on the real libvirtd: read a domain as the planner sees it,
// apply a plan (persistent config, and live media on a running domain), refuse a stale plan, and
// power the domain; virsh is the oracle for what libvirt holds.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtDriver } from '../src/hypervisors/libvirt/driver.js';
import type { Plan } from '../src/planning/model.js';
import { guestShell } from './support/guest-agent.js';
import { eventually, uniqueName } from './support/kube.js';
import { domainType, LIBVIRT_URI, removeDomain, testGuest, virsh, virshOk } from './support/libvirt.js';

let driver: LibvirtDriver;
const name = uniqueName('bp-drv');
const iso = `${uniqueName('bp-drv')}.iso`;
const signal = () => AbortSignal.timeout(30_000);

beforeAll(async () => {
  driver = new LibvirtDriver({ uri: LIBVIRT_URI, storagePool: 'default', maxInFlightCalls: 5, requestTimeoutSeconds: 30 });
  const data = readFileSync('/usr/lib/ipxe/ipxe.iso');
  const pool = await driver.client.lookupPool('default');
  await driver.client.uploadVolume(await driver.client.createVolume(pool, `<volume><name>${iso}</name><capacity>${data.length}</capacity><target><format type='raw'/></target></volume>`), data);
  const guest = testGuest();
  await driver.client.defineDomain(`<domain type='${domainType()}'>
  <name>${name}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>console=ttyS0 quiet</cmdline><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/usr/lib/ipxe/ipxe.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='none'/>
  </devices>
</domain>`);
});

const diskVm = uniqueName('bp-grow');
const diskVolume = `${diskVm}.qcow2`;

afterAll(async () => {
  await driver?.close();
  await removeDomain(name);
  await removeDomain(diskVm);
  await virsh(['vol-delete', '--pool', 'default', diskVolume]);
  await virsh(['vol-delete', '--pool', 'default', iso]);
});

describe('libvirt driver', () => {
  it('reads, changes media live, refuses stale plans and powers a domain', async () => {
    expect(await driver.readVm({ domainName: 'bp-no-such-domain' }, signal())).toBeUndefined();
    await driver.power({ domainName: name }, 'start', signal());
    await driver.power({ domainName: name }, 'start', signal()); // idempotent
    // Swap once the guest is up, as a user would: while it boots, a guest may hold its CD-ROM
    // tray, and the media change is then refused (and rolled back) — not this test's subject.
    const running = await driver.client.lookupDomainByName(name);
    await eventually(async () => driver.client.agentCommand(running, '{"execute":"guest-ping"}', 2), 'guest booted', 90_000, 1000);
    const vm = (await driver.readVm({ domainName: name }, signal()))!;
    expect(vm.power).toBe('Running');
    expect(vm.devices).toEqual([{ slot: 'ide2', kind: 'cdrom', volume: '/usr/lib/ipxe/ipxe.iso' }]);

    const plan: Plan = {
      devices: [{ slot: 'ide2', kind: 'cdrom', volume: `default/${iso}` }],
      bootOrder: ['ide2'],
      steps: [
        { op: 'swapMedia', slot: 'ide2', from: '/usr/lib/ipxe/ipxe.iso', to: `default/${iso}` },
        { op: 'setBootOrder', order: ['ide2'], previous: [] },
      ],
      warnings: [], isoSlots: { a: 'ide2' }, osFamily: 'other' as Plan['osFamily'], osFamilySource: 'default',
    };
    const outcome = await driver.applyPlan({ domainName: name }, vm, plan, signal());
    expect(outcome.appliedSteps).toBe(2);
    expect(outcome.pending).toEqual(['bootOrder']);
    const path = (await virshOk(['vol-path', '--pool', 'default', iso])).trim();
    // Live: the running domain has the new medium now; persistent: boot order and medium.
    expect(await virshOk(['domblklist', name])).toContain(iso);
    expect(await virshOk(['qemu-monitor-command', name, '--hmp', 'info block'])).toContain(path); // qemu itself
    const persistent = await virshOk(['dumpxml', '--inactive', name]);
    expect(persistent).toContain(`<source pool='default' volume='${iso}'/>`);
    expect(persistent).toContain("<boot order='1'/>");
    expect(persistent).not.toContain('<boot dev=');

    // The plan was made against the old config: refused.
    await expect(driver.applyPlan({ domainName: name }, vm, plan, signal())).rejects.toMatchObject({ code: 'DigestMismatch' });

    await driver.power({ domainName: name }, 'stop', signal());
    await eventually(async () => (await driver.readVm({ domainName: name }, signal()))?.power === 'Stopped', 'stopped');
    expect((await virshOk(['domstate', name])).trim()).toBe('shut off');
  }, 120_000);

  it('reports disk sizes and grows a disk offline and online; shrinking is refused', async () => {
    const MiB = 1024 * 1024;
    const pool = await driver.client.lookupPool('default');
    await driver.client.createVolume(pool, `<volume><name>${diskVolume}</name><capacity unit='MiB'>32</capacity><target><format type='qcow2'/></target></volume>`);
    const guest = testGuest();
    await driver.client.defineDomain(`<domain type='${domainType()}'>
  <name>${diskVm}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
  <devices>
    <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default' volume='${diskVolume}'/><target dev='vda' bus='virtio'/></disk>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='none'/>
  </devices>
</domain>`);
    const ref = { domainName: diskVm };
    expect(await driver.diskInfo(ref, signal())).toEqual([{ slot: 'virtio0', volume: `default/${diskVolume}`, capacityBytes: 32 * MiB, allocationBytes: expect.any(Number) as number }]);

    await driver.growDisk(ref, 'virtio0', 48 * MiB, signal()); // stopped: the volume is resized
    expect(await virshOk(['vol-info', '--pool', 'default', diskVolume, '--bytes'])).toMatch(new RegExp(`Capacity: +${48 * MiB} bytes`));

    await driver.power(ref, 'start', signal());
    const dom = await driver.client.lookupDomainByName(diskVm);
    await eventually(async () => driver.client.agentCommand(dom, '{"execute":"guest-ping"}', 2), 'guest agent', 90_000, 1000);
    await driver.growDisk(ref, 'virtio0', 64 * MiB, signal()); // running: qemu resizes, the guest sees it
    await eventually(async () => (await guestShell(driver.client, dom, 'cat /sys/block/vda/size')).out.trim() === String((64 * MiB) / 512), 'guest sees 64 MiB');

    await expect(driver.growDisk(ref, 'virtio0', 16 * MiB, signal())).rejects.toMatchObject({ code: 'ShrinkRefused' });
    expect((await driver.diskInfo(ref, signal()))[0]!.capacityBytes).toBe(64 * MiB);
    await expect(driver.growDisk(ref, 'virtio3', 128 * MiB, signal())).rejects.toMatchObject({ code: 'DiskNotFound' });
    await driver.power(ref, 'stop', signal());
  }, 180_000);
});
