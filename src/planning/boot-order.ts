// The boot order a VM should have once its media are in place. Presets name device classes in
// order; an explicit list names slots. Without either, the installer default keeps the VM's order
// and adds installer ISOs after the disk: PVE skips a disk with nothing bootable on it, so the
// first boot starts the installer, and once the install is done the disk wins, with no loop.
import type { BootPreset } from '../api/v1alpha1/virtual-machine.js';
import type { Device, DesiredMedia, Nic, Slot } from './model.js';
import { PlanRefused } from './model.js';
import { compareSlots } from './slots.js';

export interface BootOrderInput {
  /** The order the VM boots in now. */
  current: Slot[];
  /** The devices after the plan's steps. */
  devices: Device[];
  nics: Nic[];
  /** Bootable ISOs the spec attaches (installer and rescue), by slot, primary ones flagged. */
  bootableIsos: { slot: Slot; primary: boolean }[];
  desired: Pick<DesiredMedia, 'bootOrder' | 'networkFirst'>;
}

export interface BootOrderResult {
  order: Slot[];
  warnings: string[];
}

const PRESET_CLASSES: Record<BootPreset, ('cdrom' | 'disk' | 'net')[]> = {
  cdrom_hd: ['cdrom', 'disk'],
  hd: ['disk'],
  cdrom: ['cdrom'],
  hd_cdrom: ['disk', 'cdrom'],
  network_hd: ['net', 'disk'],
};

function unique(slots: Slot[]): Slot[] {
  return [...new Set(slots)];
}

export function planBootOrder(input: BootOrderInput): BootOrderResult {
  const warnings: string[] = [];
  const bySlot = new Map(input.devices.map((d) => [d.slot, d]));
  const nicSlots = new Set(input.nics.map((n) => n.slot));
  // A cloud-init drive already in the order stays (PVE's own default order lists it), but no
  // preset or default adds one.
  const exists = (slot: Slot) => nicSlots.has(slot) || bySlot.has(slot);
  // What is still there of the current order (ejected devices drop out).
  const kept = input.current.filter(exists);
  const primaries = input.bootableIsos.filter((i) => i.primary).map((i) => i.slot);
  let order: Slot[];

  const { preset, devices: explicit } = input.desired.bootOrder ?? {};
  if (explicit !== undefined) {
    for (const slot of explicit) {
      if (!exists(slot)) throw new PlanRefused(`boot order names ${slot}, which the VM does not have (after this plan)`);
    }
    order = unique(explicit);
  } else if (preset !== undefined) {
    const disks = kept.filter((s) => bySlot.get(s)?.kind === 'disk');
    if (disks.length === 0) {
      const first = input.devices.filter((d) => d.kind === 'disk').map((d) => d.slot).sort(compareSlots)[0];
      if (first !== undefined) disks.push(first);
    }
    const cdroms = unique([...primaries, ...input.bootableIsos.map((i) => i.slot), ...kept.filter((s) => bySlot.get(s)?.kind === 'cdrom')]);
    const nets = kept.filter((s) => nicSlots.has(s));
    if (nets.length === 0 && input.nics[0]) nets.push(input.nics[0].slot);
    const classes = { cdrom: cdroms, disk: disks, net: nets };
    order = PRESET_CLASSES[preset].flatMap((c) => classes[c]);
    for (const c of PRESET_CLASSES[preset]) {
      if (classes[c].length === 0) warnings.push(`boot order preset ${preset} wants a ${c === 'net' ? 'NIC' : c === 'disk' ? 'disk' : 'CD-ROM'} but the VM has none to boot from`);
    }
    if (primaries.length > 0 && PRESET_CLASSES[preset][0] !== 'cdrom') {
      warnings.push(`primaryBoot is not applied: boot order preset ${preset} does not start with the CD-ROM`);
    }
  } else {
    order = [...kept];
    for (const iso of input.bootableIsos) {
      if (order.includes(iso.slot) || iso.primary) continue;
      // Installer default: right after the last disk, before any NIC.
      let at = -1;
      order.forEach((s, i) => { if (bySlot.get(s)?.kind === 'disk') at = i; });
      if (at === -1) at = order.findIndex((s) => nicSlots.has(s)) - 1;
      if (at < -1) at = order.length - 1;
      order.splice(at + 1, 0, iso.slot);
    }
    order = unique([...primaries, ...order]);
  }

  if (input.desired.networkFirst) {
    const nets = order.filter((s) => nicSlots.has(s));
    if (nets.length === 0 && input.nics[0]) nets.push(input.nics[0].slot);
    if (nets.length === 0) warnings.push('network boot is wanted first but the VM has no NIC');
    order = unique([...nets, ...order]);
  }
  if (order.length === 0) warnings.push('the boot order is empty: the firmware will find nothing to boot');
  return { order, warnings };
}
