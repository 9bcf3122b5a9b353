// Real boots on real firmware: the libvirt driver applies boot plans (cdrom_hd, hd_cdrom, eject
// + hd) to a domain with an empty disk and Debian's ipxe.iso, and SeaBIOS's own serial output —
// not our state — says what the firmware tried; iPXE's banner says what it ran. virsh dumpxml is
// the independent oracle for the config. A second domain boots the test guest with a disk and
// keeps a file across a power cycle.
// The planner is not in this branch yet: the plans here are written out as the planner's
// boot-order presets resolve (cdrom_hd = [cdrom, disk], hd_cdrom = [disk, cdrom], hd = [disk]).
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtDriver } from '../src/hypervisors/libvirt/driver.js';
import type { Device, Plan, Slot } from '../src/planning/model.js';
import { guestShell } from './support/guest-agent.js';
import { eventually, uniqueName } from './support/kube.js';
import { domainType, LIBVIRT_URI, removeDomain, testGuest, virsh, virshOk } from './support/libvirt.js';

let driver: LibvirtDriver;
const firmwareVm = uniqueName('bp-boot');
const guestVm = uniqueName('bp-disk');
const serial = `/tmp/${firmwareVm}-serial.log`;
const volumes: string[] = [];
const signal = () => AbortSignal.timeout(60_000);

async function emptyDisk(name: string, mib: number): Promise<string> {
  const pool = await driver.client.lookupPool('default');
  const vol = await driver.client.createVolume(pool, `<volume><name>${name}</name><capacity unit='MiB'>${mib}</capacity><target><format type='qcow2'/></target></volume>`);
  volumes.push(name);
  return driver.client.volumePath(vol);
}

function plan(devices: Device[], bootOrder: Slot[]): Plan {
  return { devices, bootOrder, steps: [], warnings: [], isoSlots: {}, osFamily: 'other' as Plan['osFamily'], osFamilySource: 'default' };
}

/** Applies the plan to the stopped domain, boots it, and returns the serial console once `until` shows up. */
async function bootWith(p: Plan, until: RegExp): Promise<string> {
  const ref = { domainName: firmwareVm };
  await driver.power(ref, 'stop', signal());
  await eventually(async () => (await driver.readVm(ref, signal()))?.power === 'Stopped', 'stopped');
  const observed = (await driver.readVm(ref, signal()))!;
  await driver.applyPlan(ref, observed, p, signal());
  writeFileSync(serial, '');
  truncateSync(serial);
  await driver.power(ref, 'start', signal());
  await eventually(async () => {
    const text = readFileSync(serial, 'latin1');
    return until.test(text) && text;
  }, `serial console to show ${until}`, 120_000, 500);
  await new Promise((r) => setTimeout(r, 1500)); // let the firmware print what follows
  return readFileSync(serial, 'latin1');
}

beforeAll(async () => {
  driver = new LibvirtDriver({ uri: LIBVIRT_URI, storagePool: 'default', maxInFlightCalls: 5, requestTimeoutSeconds: 30 });
  const disk = await emptyDisk(`${firmwareVm}.qcow2`, 64);
  await driver.client.defineDomain(`<domain type='${domainType()}'>
  <name>${firmwareVm}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><bios useserial='yes'/></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='hdc' bus='ide'/><readonly/></disk>
    <serial type='file'><source path='${serial}'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>`);
});

afterAll(async () => {
  await driver?.close();
  await removeDomain(firmwareVm);
  await removeDomain(guestVm);
  for (const v of volumes) await virsh(['vol-delete', '--pool', 'default', v]);
});

const DISK: Device = { slot: 'virtio0', kind: 'disk' };
const withIso: Device = { slot: 'ide2', kind: 'cdrom', volume: '/usr/lib/ipxe/ipxe.iso' };

describe('boot paths on SeaBIOS', () => {
  it('cdrom_hd boots the attached ISO: iPXE runs', async () => {
    const out = await bootWith(plan([DISK, withIso], ['ide2', 'virtio0']), /iPXE \d/); // the banner, not "iPXE ISO boot image" before it
    expect(out).toContain('Booting from DVD/CD');
    expect(out).not.toContain('Booting from Hard Disk');
    expect(out).toMatch(/iPXE \d/);
    const xml = await virshOk(['dumpxml', '--inactive', firmwareVm]);
    expect(xml).toMatch(/<target dev='hdc' bus='ide'\/>\s*<readonly\/>\s*<boot order='1'\/>/);
    expect(xml).toMatch(/<target dev='vda' bus='virtio'\/>\s*<boot order='2'\/>/);
  });

  it('hd_cdrom with an empty disk tries the disk, then falls through to the ISO', async () => {
    const out = await bootWith(plan([DISK, withIso], ['virtio0', 'ide2']), /iPXE/);
    const hd = out.indexOf('Booting from Hard Disk');
    const cd = out.indexOf('Booting from DVD/CD');
    expect(hd).toBeGreaterThanOrEqual(0);
    expect(out).toContain('Boot failed: not a bootable disk');
    expect(cd).toBeGreaterThan(hd);
    expect(out.indexOf('iPXE')).toBeGreaterThan(cd);
  });

  it('after eject and a change to hd, the firmware no longer touches the CD-ROM', async () => {
    const out = await bootWith(plan([DISK, { slot: 'ide2', kind: 'cdrom' }], ['virtio0']), /No bootable device/);
    expect(out).toContain('Booting from Hard Disk');
    expect(out).not.toContain('DVD/CD');
    expect(out).not.toContain('iPXE');
    const xml = await virshOk(['dumpxml', '--inactive', firmwareVm]);
    expect(xml).not.toContain('ipxe.iso');
    expect(xml).not.toContain('<boot dev=');
    await driver.power({ domainName: firmwareVm }, 'stop', signal());
  });
});

describe('a disk the guest writes', () => {
  it('keeps a file across a power cycle', async () => {
    const guest = testGuest();
    const disk = await emptyDisk(`${guestVm}.qcow2`, 32);
    await driver.client.defineDomain(`<domain type='${domainType()}'>
  <name>${guestVm}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>console=ttyS0 quiet bootplane.format=1</cmdline></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='none'/>
  </devices>
</domain>`);
    const ref = { domainName: guestVm };
    const agentUp = async () => {
      const dom = await driver.client.lookupDomainByName(guestVm);
      await eventually(async () => driver.client.agentCommand(dom, '{"execute":"guest-ping"}', 2), 'guest agent', 90_000, 1000);
      return dom;
    };
    await driver.power(ref, 'start', signal());
    let dom = await agentUp();
    const marker = `written-${Date.now()}`;
    const write = await guestShell(driver.client, dom, `grep -q ' /mnt/disk ' /proc/mounts && echo ${marker} > /mnt/disk/marker && sync && cat /mnt/disk/marker`);
    expect(write).toMatchObject({ exitcode: 0, out: `${marker}\n` });

    await driver.power(ref, 'stop', signal());
    await eventually(async () => (await driver.readVm(ref, signal()))?.power === 'Stopped', 'stopped');
    await driver.power(ref, 'start', signal());
    dom = await agentUp();
    const read = await guestShell(driver.client, dom, 'cat /mnt/disk/marker');
    expect(read).toMatchObject({ exitcode: 0, out: `${marker}\n` });
    await driver.power(ref, 'stop', signal());
  }, 240_000);
});
