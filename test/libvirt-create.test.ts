// VMs bootplane creates on the real libvirtd, through the real API server and controller, with
// virsh as the independent oracle: a domain from spec.hardware with a qcow2 volume of the given
// virtual size and a NIC with the given MAC; the disk grows when sizeGiB grows and a shrink is
// refused by field; a name someone else uses (domain or volume) is refused and left alone; a
// create interrupted after its volumes reuses them, and a failed define leaves no volume behind;
// a UEFI domain defines and starts under OVMF; a cdrom_hd order without an ISO is warned about.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../src/config/config.js';
import { LibvirtDriver } from '../src/hypervisors/libvirt/driver.js';
import { runController, type RunningController } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { condition, createNamespace, eventually, getJson, kubectl, kubectlOk, uniqueName } from './support/kube.js';
import { domainType, LIBVIRT_URI, minimalDomainXml, removeDomain, virsh, virshOk } from './support/libvirt.js';
import { KUBECONFIG } from './support/paths.js';

const GiB = 2 ** 30;
const MAC = '52:54:00:c7:ea:01';
const id = uniqueName('create').slice('create-'.length);
const bios = `create-${id}-bios`;
const uefi = `create-${id}-uefi`;
const taken = `create-${id}-taken`;
const volClash = `create-${id}-volclash`;
const resumed = `create-${id}-resume`;
const failing = `create-${id}-fail`;
const domains = [bios, uefi, taken, volClash, resumed, failing];
let controller: RunningController;
let ns: string;
let hv: string;
let driver: LibvirtDriver;

beforeAll(async () => {
  ns = await createNamespace('lvcreate');
  hv = uniqueName('lvcreate');
  await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec: {type: libvirt, libvirt: {uri: "${LIBVIRT_URI}", storagePool: default, domainType: ${domainType()}}}\n`);
  controller = await runController(parseControllerConfig({ kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', bootAddr: ':0' }), silentLogger());
  driver = new LibvirtDriver({ uri: LIBVIRT_URI, storagePool: 'default', maxInFlightCalls: 5, requestTimeoutSeconds: 30, domainType: domainType() });
});

afterAll(async () => {
  await kubectl(['delete', 'virtualmachines', '--all', '-n', ns, '--timeout=60s']);
  await kubectl(['delete', 'hv', hv, '--timeout=60s']);
  await controller?.stop();
  await driver?.close();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  for (const d of domains) await removeDomain(d);
  const vols = (await virsh(['vol-list', '--pool', 'default'])).stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter((v) => v.startsWith(`create-${id}-`));
  for (const v of vols) await virsh(['vol-delete', '--pool', 'default', v]);
});

const apply = (yaml: string) => kubectlOk(['apply', '-f', '-'], yaml);
const until = (kindName: string, type: string, ok: (c: { status: string; reason: string; message: string }) => boolean, what: string, timeoutMs = 60_000) =>
  eventually(async () => {
    const c = await condition(kindName, type, ns);
    return c && ok(c) ? c : undefined;
  }, what, timeoutMs, 250);

/** Capacity of a volume as `virsh vol-info --bytes` reports it. */
async function volumeCapacity(name: string): Promise<number> {
  const out = await virshOk(['vol-info', '--pool', 'default', name, '--bytes']);
  return Number(/Capacity:\s+(\d+)/.exec(out)?.[1]);
}

function vmYaml(name: string, domain: string, hardware: string, extra = ''): string {
  return `apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  libvirt: {domainName: ${domain}}
  source: create
  hardware: ${hardware}
${extra}`;
}

describe('spec.source: create on libvirt', () => {
  it('defines a domain with a qcow2 volume of the given size and a NIC with the given MAC', async () => {
    await apply(vmYaml('bios', bios, `{cores: 1, memoryMiB: 128, machine: pc, firmware: bios, disks: [{slot: virtio0, sizeGiB: 1, format: qcow2}], nics: [{name: net0, mac: "${MAC}"}]}`, '  bootOrder: {preset: cdrom_hd}'));
    const found = await until('virtualmachine/bios', 'VmFound', (c) => c.status === 'True', 'created');
    expect(found.reason).toBe('Created');

    // virsh as the oracle: the domain, its disk volume and its NIC.
    const xml = await virshOk(['dumpxml', bios, '--inactive']);
    expect(xml).toContain(`<mac address='${MAC}'/>`);
    expect(xml).toMatch(new RegExp(`<source pool='default' volume='${bios}-virtio0.qcow2'/>`));
    expect(xml).toMatch(/<type arch='x86_64' machine='pc[^']*'>hvm<\/type>/);
    expect(xml).toContain('bootplane-owner=');
    expect(xml).not.toMatch(/<loader/);
    expect(await volumeCapacity(`${bios}-virtio0.qcow2`)).toBe(GiB);
    expect(await virshOk(['vol-dumpxml', '--pool', 'default', `${bios}-virtio0.qcow2`])).toContain("<format type='qcow2'/>");
    expect((await virshOk(['domstate', bios])).trim()).toBe('shut off');

    await until('virtualmachine/bios', 'DisksConfigured', (c) => c.status === 'True', 'disks converged');
    const vm = await getJson<{ status: { macAddresses: string[]; devices: { slot: string; sizeBytes?: number; allocationBytes?: number }[] } }>(['get', 'virtualmachine', 'bios', '-n', ns]);
    expect(vm.status.macAddresses).toEqual([MAC]);
    const disk = vm.status.devices.find((d) => d.slot === 'virtio0')!;
    expect(disk.sizeBytes).toBe(GiB);
    expect(disk.allocationBytes).toBeGreaterThan(0);
    expect(disk.allocationBytes).toBeLessThan(GiB); // a fresh qcow2 holds almost nothing
  });

  it('warns that cdrom_hd has no ISO to boot', async () => {
    const warning = await until('virtualmachine/bios', 'BootMediaConsistent', (c) => c.status === 'False', 'warning');
    expect(warning.reason).toBe('CdromWithoutIso');
    expect(warning.message).toContain('cdrom_hd');
  });

  it('grows the volume when sizeGiB grows, and refuses a shrink by field', async () => {
    await kubectlOk(['patch', 'virtualmachine', 'bios', '-n', ns, '--type=json', '-p', '[{"op":"replace","path":"/spec/hardware/disks/0/sizeGiB","value":2}]']);
    await eventually(async () => (await volumeCapacity(`${bios}-virtio0.qcow2`)) === 2 * GiB, 'volume grown to 2 GiB', 60_000);
    await until('virtualmachine/bios', 'DisksConfigured', (c) => c.status === 'True' && c.message.includes('virtio0 2 GiB'), 'converged at 2 GiB');

    await kubectlOk(['patch', 'virtualmachine', 'bios', '-n', ns, '--type=json', '-p', '[{"op":"replace","path":"/spec/hardware/disks/0/sizeGiB","value":1}]']);
    const refused = await until('virtualmachine/bios', 'DisksConfigured', (c) => c.reason === 'ShrinkRefused', 'shrink refused');
    expect(refused.message).toContain('spec.hardware.disks[0].sizeGiB');
    expect(await volumeCapacity(`${bios}-virtio0.qcow2`)).toBe(2 * GiB);
  });

  it('refuses a domain name bootplane did not create, and leaves that domain as it was', async () => {
    await virshOk(['define', writeTemp(minimalDomainXml(taken))]);
    const before = await virshOk(['dumpxml', taken, '--inactive']);
    await apply(vmYaml('taken', taken, '{cores: 1, memoryMiB: 64, disks: [{slot: virtio0, sizeGiB: 1}]}'));
    const refused = await until('virtualmachine/taken', 'VmFound', (c) => c.reason === 'NameCollision', 'refused');
    expect(refused.message).toContain('spec.libvirt.domainName');
    expect(await virshOk(['dumpxml', taken, '--inactive'])).toBe(before);
    expect((await virsh(['vol-info', '--pool', 'default', `${taken}-virtio0.qcow2`])).code).not.toBe(0);
  });

  it('refuses a disk volume name someone else holds, leaving the volume and defining nothing', async () => {
    await virshOk(['vol-create-as', 'default', `${volClash}-virtio0.qcow2`, '16M', '--format', 'qcow2']);
    await apply(vmYaml('volclash', volClash, '{cores: 1, memoryMiB: 64, disks: [{slot: virtio0, sizeGiB: 1}]}'));
    const refused = await until('virtualmachine/volclash', 'VmFound', (c) => c.reason === 'NameCollision', 'refused');
    expect(refused.message).toContain(`${volClash}-virtio0.qcow2`);
    expect(await volumeCapacity(`${volClash}-virtio0.qcow2`)).toBe(16 * 2 ** 20);
    expect((await virsh(['dominfo', volClash])).code).not.toBe(0);
  });

  it('defines and starts a UEFI domain under OVMF', async () => {
    if (!existsSync('/usr/share/qemu/firmware')) throw new Error('OVMF firmware descriptors missing: run hack/apt.sh (package ovmf)');
    // No NIC: the shared daemon has no libvirt network to start one on.
    await apply(vmYaml('uefi', uefi, '{cores: 1, memoryMiB: 256, machine: q35, firmware: uefi, disks: [{slot: virtio0, sizeGiB: 1}]}', '  powerState: Running'));
    await until('virtualmachine/uefi', 'VmFound', (c) => c.status === 'True', 'created');
    await eventually(async () => (await virshOk(['domstate', uefi])).trim() === 'running', 'running', 60_000);
    const live = await virshOk(['dumpxml', uefi]);
    expect(live).toMatch(/<loader [^>]*type='pflash'[^>]*>\/usr\/share\/OVMF\/OVMF_CODE[^<]*\.fd<\/loader>/);
    expect(live).toMatch(/machine='pc-q35/);
    await kubectlOk(['patch', 'virtualmachine', 'uefi', '-n', ns, '--type=merge', '-p', '{"spec":{"powerState":null}}']);
    await virsh(['destroy', uefi]);
  });
});

describe('libvirt create, interrupted and failed (driver on the real daemon)', () => {
  const signal = () => AbortSignal.timeout(60_000);
  const hardware = { cores: 1, memoryMiB: 64, machine: 'pc' as const, arch: 'x86_64' as const, firmware: 'bios' as const, disks: [{ slot: 'virtio0', sizeGiB: 1, format: 'qcow2' as const }] };

  it('a create resumed after its volume was made reuses that volume and makes no second one', async () => {
    // What an interrupted pass leaves: the volume, no domain, and (in status) its create record.
    await virshOk(['vol-create-as', 'default', `${resumed}-virtio0.qcow2`, '1G', '--format', 'qcow2']);
    const request = { source: 'create' as const, name: resumed, owner: 'Created by bootplane.\nbootplane-owner=test-uid', hardware, resume: false };
    await expect(driver.createVm({ domainName: resumed }, request, signal())).rejects.toMatchObject({ code: 'VolumeExists' });
    expect((await virsh(['dominfo', resumed])).code).not.toBe(0);
    await driver.createVm({ domainName: resumed }, { ...request, resume: true }, signal());
    expect((await driver.readVm({ domainName: resumed }, signal()))?.createdBy).toBe('test-uid');
    const vols = (await virshOk(['vol-list', '--pool', 'default'])).split('\n').filter((l) => l.includes(resumed));
    expect(vols).toHaveLength(1);
    await expect(driver.createVm({ domainName: resumed }, { ...request, resume: true }, signal())).rejects.toMatchObject({ code: 'VmExists' });
  });

  it('a define that fails deletes the volumes it made', async () => {
    // An aarch64 guest on a host without qemu-system-aarch64: libvirt refuses the define.
    const request = { source: 'create' as const, name: failing, owner: 'o', hardware: { ...hardware, machine: 'virt' as const, arch: 'aarch64' as const }, resume: false };
    await expect(driver.createVm({ domainName: failing }, request, signal())).rejects.toThrow();
    expect((await virsh(['vol-info', '--pool', 'default', `${failing}-virtio0.qcow2`])).code).not.toBe(0);
    expect((await virsh(['dominfo', failing])).code).not.toBe(0);
  });
});

function writeTemp(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'create-')), 'domain.xml');
  writeFileSync(file, text);
  return file;
}
