// libvirt disk targets ↔ the planner's slots. The planner speaks Proxmox-style slots (ide2,
// sata0, scsi1, virtio0); libvirt names a disk by its target dev and bus. The letter index of
// the target is the slot index: hda/hdb/hdc/hdd are IDE primary master/slave and secondary
// master/slave (ide0..ide3, so the classic CD-ROM hdc is ide2), sdX on bus sata is sataN, sdX on
// bus scsi is scsiN, vdX is virtioN. sata and scsi share the sd namespace in libvirt, so sata0
// and scsi0 cannot both exist in one domain: toTarget refuses that with a clear error.
import type { Bus, Slot } from '../../planning/model.js';

export class SlotError extends Error {
  readonly code = 'SlotUnmappable';
}

const PREFIX: Record<Bus, string> = { ide: 'hd', sata: 'sd', scsi: 'sd', virtio: 'vd' };

function letters(index: number): string {
  // a..z, then aa..zz, as libvirt counts targets
  let s = '';
  let n = index;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}

function letterIndex(s: string): number {
  let n = 0;
  for (const ch of s) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n - 1;
}

/** The slot of a libvirt disk (target dev + bus), or undefined for buses the planner does not place (usb, fdc, xen). */
export function slotOfTarget(dev: string, bus: string | undefined): Slot | undefined {
  const m = /^(hd|sd|vd)([a-z]+)$/.exec(dev);
  if (!m) return undefined;
  const effectiveBus = bus ?? ({ hd: 'ide', sd: 'scsi', vd: 'virtio' } as const)[m[1] as 'hd' | 'sd' | 'vd'];
  if (!['ide', 'sata', 'scsi', 'virtio'].includes(effectiveBus)) return undefined;
  return `${effectiveBus}${letterIndex(m[2]!)}`;
}

export function parseSlot(slot: Slot): { bus: Bus; index: number } {
  const m = /^(ide|sata|scsi|virtio)(\d+)$/.exec(slot);
  if (!m) throw new SlotError(`slot ${JSON.stringify(slot)} is not a disk slot (expected ide0-3, sataN, scsiN or virtioN)`);
  const index = Number(m[2]);
  if (m[1] === 'ide' && index > 3) throw new SlotError(`slot ${slot} does not exist: IDE has ide0..ide3`);
  return { bus: m[1] as Bus, index };
}

/** The libvirt target of a slot; `taken` lists target devs in use by other buses. */
export function targetOfSlot(slot: Slot, taken: { dev: string; slot: Slot }[] = []): { dev: string; bus: Bus } {
  const { bus, index } = parseSlot(slot);
  const dev = `${PREFIX[bus]}${letters(index)}`;
  const clash = taken.find((t) => t.dev === dev && t.slot !== slot);
  if (clash) throw new SlotError(`slot ${slot} needs target ${dev}, which ${clash.slot} already uses (libvirt names SATA and SCSI disks from the same sdX range)`);
  return { dev, bus };
}
