import { describe, expect, it } from 'vitest';
import type { DesiredIso, DesiredMedia, Device, MachineFacts, ObservedVm } from './model.js';
import { PlanRefused } from './model.js';
import { planMedia } from './plan-media.js';

const PC: MachineFacts = { machine: 'pc', arch: 'x86_64', firmware: 'bios' };
const PC_OVMF: MachineFacts = { machine: 'pc', arch: 'x86_64', firmware: 'uefi' };
const Q35: MachineFacts = { machine: 'q35', arch: 'x86_64', firmware: 'bios' };
const Q35_OVMF: MachineFacts = { machine: 'q35', arch: 'x86_64', firmware: 'uefi' };
const VIRT: MachineFacts = { machine: 'virt', arch: 'aarch64', firmware: 'uefi' };

const disk = (slot: string): Device => ({ slot, kind: 'disk', volume: `local-lvm:vm-101-disk-${slot}`, sizeBytes: 32 * 1024 ** 3 });
const ci = (slot: string): Device => ({ slot, kind: 'cloudinit', volume: 'local-lvm:vm-101-cloudinit' });
const cd = (slot: string, volume?: string): Device => (volume ? { slot, kind: 'cdrom', volume } : { slot, kind: 'cdrom' });

function vm(devices: Device[], more: Partial<ObservedVm> = {}): ObservedVm {
  return {
    name: 'vm-101',
    osHints: {},
    machine: PC,
    devices,
    nics: [{ slot: 'net0', mac: '52:54:00:00:01:01', model: 'virtio' }],
    bootOrder: devices.filter((d) => d.kind === 'disk').map((d) => d.slot).concat('net0'),
    power: 'Stopped',
    ...more,
  };
}

const iso = (id: string, volume: string, more: Partial<DesiredIso> = {}): DesiredIso => ({ id, volume, slot: 'auto', purpose: 'installer', primaryBoot: false, ...more });
const want = (more: Partial<DesiredMedia>): DesiredMedia => ({ isos: [], ...more });

describe('planMedia: where an ISO goes, by OS family × machine type × what is taken', () => {
  it.each([
    // family, machine, devices, purpose, expected slot
    ['linux', PC, [disk('scsi0')], 'installer', 'ide2'],
    ['linux', PC, [disk('scsi0'), ci('ide2')], 'installer', 'ide3'],
    ['rhel', Q35, [disk('scsi0'), ci('ide2')], 'installer', 'ide0'],
    ['rhel', Q35, [disk('scsi0'), disk('ide0'), cd('ide2', 'local:iso/other.iso')], 'installer', 'sata0'],
    ['debian', PC, [disk('scsi0'), ci('scsi1')], 'installer', 'ide2'],
    ['debian', VIRT, [disk('scsi0'), ci('scsi1')], 'installer', 'sata0'],
    ['fedora', PC, [disk('virtio0'), cd('ide0')], 'installer', 'ide0'], // an empty CD-ROM drive is reused
    ['fcos', Q35, [disk('scsi0')], 'installer', 'ide2'],
    ['fcos', VIRT, [disk('scsi0')], 'installer', 'sata0'],
    ['windows', Q35_OVMF, [disk('scsi0')], 'installer', 'sata0'],
    ['windows', Q35_OVMF, [disk('scsi0'), cd('sata0', 'local:iso/win.iso')], 'drivers', 'sata1'],
    ['windows', PC, [disk('sata0'), disk('sata1'), disk('sata2'), disk('sata3'), disk('sata4'), disk('sata5')], 'drivers', 'ide2'],
    ['talos', PC, [disk('scsi0'), ci('ide2')], 'installer', 'ide3'],
    ['windows', Q35, [disk('scsi0'), cd('ide2')], 'installer', 'sata0'], // SATA preferred over an empty IDE drive
    ['windows', Q35, [disk('scsi0'), cd('ide2'), cd('sata2')], 'installer', 'sata2'], // an empty SATA drive is reused
    ['ubuntu', Q35, [disk('scsi0'), ci('ide0'), cd('ide2', 'local:iso/x.iso')], 'rescue', 'sata0'],
  ] as const)('%s on %j with %j: %s ISO at %s', (family, machine, devices, purpose, slot) => {
    const plan = planMedia(vm([...devices], { machine }), want({ osFamily: family, isos: [iso('a', 'local:iso/new.iso', { purpose })] }));
    expect(plan.isoSlots).toEqual({ a: slot });
    expect(plan.devices.find((d) => d.slot === slot)).toEqual({ slot, kind: 'cdrom', volume: 'local:iso/new.iso' });
  });

  it('Fedora CoreOS needs IDE: with both q35 IDE slots taken, the cloud-init drive moves off ide2', () => {
    const plan = planMedia(vm([disk('scsi0'), disk('ide0'), ci('ide2')], { machine: Q35 }), want({ osFamily: 'fcos', isos: [iso('fcos', 'local:iso/fcos.iso')] }));
    expect(plan.isoSlots).toEqual({ fcos: 'ide2' });
    expect(plan.cloudInitSlot).toBe('sata0');
    expect(plan.steps).toEqual([
      { op: 'removeCloudInit', slot: 'ide2' },
      { op: 'createCloudInit', slot: 'sata0' },
      { op: 'attachIso', slot: 'ide2', volume: 'local:iso/fcos.iso' },
      { op: 'setBootOrder', order: ['scsi0', 'ide0', 'ide2', 'net0'], previous: ['scsi0', 'ide0', 'net0'] },
      { op: 'regenerateCloudInit' },
    ]);
    expect(plan.warnings).toContain('fcos boots with Ignition: the cloud-init drive at sata0 is not used');
  });

  it('an explicit slot held by cloud-init relocates it to the OS-preferred bus, then attaches, then sets the boot order', () => {
    const observed = vm([disk('scsi0'), ci('ide2')], { name: 'okd-master-0' });
    const plan = planMedia(observed, want({ isos: [iso('fcos', 'local:iso/fcos.iso', { slot: 'ide2', primaryBoot: true })] }));
    expect(plan.osFamily).toBe('fcos');
    expect(plan.osFamilySource).toBe('name');
    expect(plan.steps).toEqual([
      { op: 'removeCloudInit', slot: 'ide2' },
      { op: 'createCloudInit', slot: 'ide3' },
      { op: 'attachIso', slot: 'ide2', volume: 'local:iso/fcos.iso' },
      { op: 'setBootOrder', order: ['ide2', 'scsi0', 'net0'], previous: ['scsi0', 'net0'] },
      { op: 'regenerateCloudInit' },
    ]);
  });

  it.each([
    ['a disk', [disk('scsi0'), disk('ide2')], PC, 'ide2', /slot ide2 holds disk local-lvm:vm-101-disk-ide2; a disk that holds data is never detached/],
    ['a q35 slot that does not exist', [disk('scsi0')], Q35, 'ide1', /slot ide1 does not exist on machine type q35/],
    ['IDE on aarch64', [disk('scsi0')], VIRT, 'ide2', /has no IDE bus/],
    ['virtio', [disk('scsi0')], PC, 'virtio3', /virtio is never a CD-ROM bus/],
  ] as const)('an explicit slot on %s is refused with a reason', (_, devices, machine, slot, reason) => {
    const run = () => planMedia(vm([...devices], { machine }), want({ isos: [iso('a', 'local:iso/a.iso', { slot })] }));
    expect(run).toThrow(PlanRefused);
    expect(run).toThrow(reason);
    try { run(); } catch (err) { expect((err as PlanRefused).isoId).toBe('a'); }
  });

  it('two ISOs cannot share an explicit slot', () => {
    expect(() => planMedia(vm([disk('scsi0')]), want({ isos: [iso('a', 'local:iso/a.iso', { slot: 'ide2' }), iso('b', 'local:iso/b.iso', { slot: 'ide2' })] })))
      .toThrow(/ISO b: slot ide2 is already used by ISO a/);
  });

  it('refuses when no slot is left and nothing can move', () => {
    const full = [disk('scsi0'), disk('ide0'), cd('ide2', 'local:iso/keep.iso')];
    expect(() => planMedia(vm(full, { machine: Q35 }), want({ osFamily: 'fcos', isos: [iso('a', 'local:iso/a.iso')] })))
      .toThrow(/no free slot for a fcos installer ISO on ide \(machine q35\); taken: ide2 \(CD-ROM local:iso\/keep.iso\), ide0 \(disk/);
  });

  it('an explicit slot holding another ISO swaps the medium and says so', () => {
    const plan = planMedia(vm([disk('scsi0'), cd('ide2', 'local:iso/old.iso')]), want({ isos: [iso('a', 'local:iso/new.iso', { slot: 'ide2' })] }));
    expect(plan.steps[0]).toEqual({ op: 'swapMedia', slot: 'ide2', from: 'local:iso/old.iso', to: 'local:iso/new.iso' });
    expect(plan.warnings).toContain('ISO a: local:iso/new.iso replaces local:iso/old.iso in ide2');
  });

  it('an ISO whose explicit slot changed moves: out of the old slot (and the boot order) first', () => {
    const observed = vm([disk('scsi0'), cd('ide2', 'local:iso/a.iso')], { bootOrder: ['scsi0', 'ide2', 'net0'] });
    const plan = planMedia(observed, want({ isos: [iso('a', 'local:iso/a.iso', { slot: 'sata1' })] }));
    expect(plan.steps).toEqual([
      { op: 'setBootOrder', order: ['scsi0', 'net0'], previous: ['scsi0', 'ide2', 'net0'] },
      { op: 'detachIso', slot: 'ide2', volume: 'local:iso/a.iso' },
      { op: 'attachIso', slot: 'sata1', volume: 'local:iso/a.iso' },
      { op: 'setBootOrder', order: ['scsi0', 'sata1', 'net0'], previous: ['scsi0', 'net0'] },
    ]);
  });
});

describe('planMedia: cloud-init placement', () => {
  it('keep leaves ide2 where it is (backwards compatible), even for Debian', () => {
    const plan = planMedia(vm([disk('scsi0'), ci('ide2')], { name: 'debian-12' }), want({ cloudInit: { placement: 'keep' } }));
    expect(plan.steps).toEqual([]);
    expect(plan.cloudInitSlot).toBe('ide2');
  });

  it.each([
    ['debian', PC, [disk('scsi0'), ci('ide2')], 'auto', 'scsi1'],
    ['ubuntu', Q35, [disk('scsi0'), ci('ide2')], 'auto', 'scsi1'],
    ['rhel', PC_OVMF, [disk('scsi0'), ci('ide2')], 'auto', 'sata0'],
    ['linux', Q35_OVMF, [disk('scsi0'), ci('ide0')], 'auto', 'sata0'],
    ['rhel', PC, [disk('scsi0'), ci('ide2')], 'sata', 'sata0'],
    ['rhel', PC, [disk('virtio0'), ci('scsi0')], 'ide', 'ide2'],
    ['debian', VIRT, [disk('virtio0'), ci('sata0')], 'auto', 'scsi0'],
  ] as const)('%s on %j, placement %s: moves to %s', (family, machine, devices, placement, to) => {
    const from = devices.find((d) => d.kind === 'cloudinit')?.slot as string;
    const plan = planMedia(vm([...devices], { machine }), want({ osFamily: family, cloudInit: { placement } }));
    expect(plan.steps).toEqual([{ op: 'removeCloudInit', slot: from }, { op: 'createCloudInit', slot: to }, { op: 'regenerateCloudInit' }]);
    expect(plan.devices.filter((d) => d.kind === 'cloudinit')).toEqual([{ slot: to, kind: 'cloudinit' }]);
  });

  it.each([
    ['rhel', PC, [disk('scsi0'), ci('ide2')], 'auto'],
    ['debian', PC, [disk('scsi0'), ci('scsi1')], 'auto'],
    ['rhel', PC, [disk('scsi0'), ci('ide0')], 'ide'],
  ] as const)('%s on %j with %j, placement %s: already right, no steps', (family, machine, devices, placement) => {
    expect(planMedia(vm([...devices], { machine }), want({ osFamily: family, cloudInit: { placement } })).steps).toEqual([]);
  });

  it('creates a missing drive on the preferred bus', () => {
    const plan = planMedia(vm([disk('scsi0')], { machine: Q35 }), want({ osFamily: 'ubuntu', cloudInit: { placement: 'keep' } }));
    expect(plan.steps).toEqual([{ op: 'createCloudInit', slot: 'scsi1' }, { op: 'regenerateCloudInit' }]);
  });

  it('never creates one for Fedora CoreOS', () => {
    const plan = planMedia(vm([disk('scsi0')]), want({ osFamily: 'fcos', cloudInit: { placement: 'auto' } }));
    expect(plan.steps).toEqual([]);
    expect(plan.warnings).toEqual(['fcos boots with Ignition, not cloud-init: no cloud-init drive is created']);
  });

  it('refuses a bus the machine lacks', () => {
    expect(() => planMedia(vm([disk('scsi0'), ci('scsi1')], { machine: VIRT }), want({ cloudInit: { placement: 'ide' } })))
      .toThrow(/cloud-init placement ide: machine type virt \(aarch64\) has no IDE bus/);
  });

  it('warns that a relocation on a running VM waits for power-off', () => {
    const plan = planMedia(vm([disk('scsi0'), ci('ide2')], { power: 'Running' }), want({ osFamily: 'debian', cloudInit: { placement: 'auto' } }));
    expect(plan.warnings.join('\n')).toMatch(/needs the VM stopped/);
  });
});

describe('planMedia: boot order, eject, steady state', () => {
  const installed = vm([disk('scsi0'), ci('ide2')], { bootOrder: ['scsi0', 'net0'] });

  it('installer default: disk first, then the ISO, then the network', () => {
    const plan = planMedia(installed, want({ isos: [iso('inst', 'local:iso/debian.iso')] }));
    expect(plan.bootOrder).toEqual(['scsi0', 'ide3', 'net0']);
  });

  it('primaryBoot puts the ISO first', () => {
    const plan = planMedia(installed, want({ isos: [iso('inst', 'local:iso/debian.iso', { primaryBoot: true })] }));
    expect(plan.bootOrder).toEqual(['ide3', 'scsi0', 'net0']);
  });

  it('driver ISOs are not booted from', () => {
    const plan = planMedia(installed, want({ osFamily: 'windows', isos: [iso('drv', 'local:iso/virtio-win.iso', { purpose: 'drivers', primaryBoot: true })] }));
    expect(plan.bootOrder).toEqual(['scsi0', 'net0']);
    expect(plan.warnings).toContain('ISO drv: primaryBoot is ignored for a drivers ISO');
  });

  it('Windows: installer and virtio drivers as two SATA CD-ROMs, installer bootable after the disk', () => {
    const plan = planMedia(vm([disk('scsi0')], { machine: Q35_OVMF, osHints: { ostype: 'win11' }, bootOrder: ['scsi0'] }), want({
      isos: [iso('win', 'local:iso/Win11.iso'), iso('drv', 'local:iso/virtio-win.iso', { purpose: 'drivers' })],
    }));
    expect(plan.isoSlots).toEqual({ win: 'sata0', drv: 'sata1' });
    expect(plan.bootOrder).toEqual(['scsi0', 'sata0']);
    expect(plan.osFamilySource).toBe('hypervisor');
  });

  it.each([
    ['cdrom_hd', ['ide3', 'scsi0']],
    ['hd', ['scsi0']],
    ['cdrom', ['ide3']],
    ['hd_cdrom', ['scsi0', 'ide3']],
    ['network_hd', ['net0', 'scsi0']],
  ] as const)('preset %s', (preset, order) => {
    const plan = planMedia(installed, want({ isos: [iso('inst', 'local:iso/debian.iso')], bootOrder: { preset } }));
    expect(plan.bootOrder).toEqual(order);
  });

  it('a preset with nothing to boot from says so', () => {
    const plan = planMedia(installed, want({ bootOrder: { preset: 'cdrom' } }));
    expect(plan.warnings).toContain('boot order preset cdrom wants a CD-ROM but the VM has none to boot from');
    expect(plan.warnings).toContain('the boot order is empty: the firmware will find nothing to boot');
  });

  it('an explicit order is taken as given, and must name devices the VM will have', () => {
    expect(planMedia(installed, want({ bootOrder: { devices: ['net0', 'scsi0'] } })).bootOrder).toEqual(['net0', 'scsi0']);
    expect(() => planMedia(installed, want({ bootOrder: { devices: ['scsi0', 'sata3'] } }))).toThrow(/boot order names sata3, which the VM does not have/);
  });

  it('networkFirst puts a NIC in front', () => {
    expect(planMedia(installed, want({ networkFirst: true })).bootOrder).toEqual(['net0', 'scsi0']);
  });

  it('eject takes the ISO out of the boot order before detaching it (PVE refuses to delete a boot device)', () => {
    const withIso = vm([disk('scsi0'), cd('ide2', 'local:iso/inst.iso')], { bootOrder: ['scsi0', 'ide2', 'net0'] });
    const plan = planMedia(withIso, want({ eject: [{ slot: 'ide2', volume: 'local:iso/inst.iso' }] }));
    expect(plan.steps).toEqual([
      { op: 'setBootOrder', order: ['scsi0', 'net0'], previous: ['scsi0', 'ide2', 'net0'] },
      { op: 'detachIso', slot: 'ide2', volume: 'local:iso/inst.iso' },
    ]);
    expect(plan.devices).toEqual([disk('scsi0')]);
  });

  it('eject leaves media it did not attach alone', () => {
    const withIso = vm([disk('scsi0'), cd('ide2', 'local:iso/someone-else.iso')]);
    expect(planMedia(withIso, want({ eject: [{ slot: 'ide2', volume: 'local:iso/inst.iso' }] })).steps).toEqual([]);
  });

  it('a converged VM plans nothing', () => {
    const converged = vm([disk('scsi0'), ci('scsi1'), cd('ide2', 'local:iso/inst.iso')], { bootOrder: ['scsi0', 'ide2', 'net0'] });
    const plan = planMedia(converged, want({ osFamily: 'debian', cloudInit: { placement: 'auto' }, isos: [iso('inst', 'local:iso/inst.iso')] }));
    expect(plan.steps).toEqual([]);
    expect(plan.isoSlots).toEqual({ inst: 'ide2' });
  });

  it('planning against the plan\'s own result plans nothing (idempotent)', () => {
    const desired = want({ osFamily: 'fcos', isos: [iso('fcos', 'local:iso/fcos.iso', { primaryBoot: true })], cloudInit: { placement: 'auto' } });
    const observed = vm([disk('scsi0'), disk('ide0'), ci('ide2')], { machine: Q35 });
    const first = planMedia(observed, desired);
    const second = planMedia({ ...observed, devices: first.devices, bootOrder: first.bootOrder }, desired);
    expect(second.steps).toEqual([]);
  });

  it('the same ISO asked for twice is refused', () => {
    expect(() => planMedia(installed, want({ isos: [iso('a', 'local:iso/a.iso'), iso('a', 'local:iso/b.iso')] }))).toThrow(/ISO a is asked for twice/);
  });
});
