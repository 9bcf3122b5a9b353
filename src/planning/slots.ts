// Drive slots (ide2, sata0, scsi5, virtio0) and what each machine type offers. PVE's limits are
// ide0-3, sata0-5, scsi0-30, virtio0-15; q35 wires up only ide0 and ide2; the aarch64 `virt`
// machine has no IDE at all; and virtio-blk cannot be a CD-ROM, so removable media never go there.
import type { Bus, MachineFacts, Slot } from './model.js';
import { byCodeUnits } from '../order.js';

export const BUS_ORDER: readonly Bus[] = ['ide', 'sata', 'scsi', 'virtio'];
export const BUS_SLOT_COUNT: Record<Bus, number> = { ide: 4, sata: 6, scsi: 31, virtio: 16 };
/** Buses that can hold a CD-ROM (an ISO or the cloud-init drive). */
export const REMOVABLE_MEDIA_BUSES: readonly Bus[] = ['ide', 'sata', 'scsi'];

export interface ParsedSlot {
  bus: Bus;
  index: number;
}

export function parseSlot(slot: Slot): ParsedSlot | undefined {
  const m = /^(ide|sata|scsi|virtio)(\d{1,2})$/.exec(slot);
  if (!m) return undefined;
  const bus = m[1] as Bus;
  const index = Number(m[2]);
  if (String(index) !== m[2] || index >= BUS_SLOT_COUNT[bus]) return undefined;
  return { bus, index };
}

export function busOf(slot: Slot): Bus | undefined {
  return parseSlot(slot)?.bus;
}

/** Sorts slots the way PVE lists drives: IDE, SATA, SCSI, VirtIO, each by index. */
export function compareSlots(a: Slot, b: Slot): number {
  const pa = parseSlot(a);
  const pb = parseSlot(b);
  if (!pa || !pb) return byCodeUnits(a, b);
  return BUS_ORDER.indexOf(pa.bus) - BUS_ORDER.indexOf(pb.bus) || pa.index - pb.index;
}

// ide2 is the conventional CD-ROM slot (PVE's `cdrom` alias), and ide0 is where old VMs keep their
// disk, so removable media try ide2 first and ide0 last.
const IDE_MEDIA_ORDER = [2, 3, 1, 0];

/** Slots of a bus that exist on this machine, in the order removable media should take them. */
export function mediaSlotsOnMachine(machine: MachineFacts, bus: Bus): Slot[] {
  if (bus === 'virtio') return [];
  if (bus === 'ide') {
    if (machine.machine === 'virt' || machine.arch === 'aarch64') return [];
    const order = machine.machine === 'q35' ? [2, 0] : IDE_MEDIA_ORDER;
    return order.map((i) => `ide${i}`);
  }
  return Array.from({ length: BUS_SLOT_COUNT[bus] }, (_, i) => `${bus}${i}`);
}

export function machineHasBus(machine: MachineFacts, bus: Bus): boolean {
  return mediaSlotsOnMachine(machine, bus).length > 0;
}

/** Why a slot cannot hold a CD-ROM on this machine, or undefined when it can. */
export function removableSlotProblem(machine: MachineFacts, slot: Slot): string | undefined {
  const parsed = parseSlot(slot);
  if (!parsed) return `slot ${slot} is not a drive slot (ide0-3, sata0-5, scsi0-30)`;
  if (parsed.bus === 'virtio') return `slot ${slot}: virtio is never a CD-ROM bus; use ide, sata or scsi`;
  if (parsed.bus === 'ide' && !machineHasBus(machine, 'ide')) {
    return `slot ${slot}: machine type ${machine.machine} (${machine.arch}) has no IDE bus; use sata or scsi`;
  }
  if (!mediaSlotsOnMachine(machine, parsed.bus).includes(slot)) {
    return `slot ${slot} does not exist on machine type ${machine.machine}, which has only ${mediaSlotsOnMachine(machine, parsed.bus).sort().join(' and ')}`;
  }
  return undefined;
}
