// The `boot` key: `order=scsi0;ide2;net0` (PVE 6.3+), or the legacy `cdn` / `legacy=cdn` letters
// (a floppy, c disk, d CD-ROM, n network) that work together with the `bootdisk` key. PVE still
// boots legacy configs, so reading them must give the order the VM really boots in.
import { formatPropertyString, parsePropertyString, PropertyStringError, sortedPairs } from './property-string.js';

export type PveBoot =
  | { kind: 'order'; order: string[]; options: Record<string, string> }
  | { kind: 'legacy'; letters: string; options: Record<string, string> };

const LEGACY = /^[acdn]{1,4}$/;

export function parseBoot(text: string): PveBoot {
  const list = parsePropertyString(text);
  const options: Record<string, string> = {};
  let order: string[] | undefined;
  let letters = list.defaultValue;
  for (const [key, value] of list.pairs) {
    if (key === 'order') {
      // PVE splits device lists on ';', ',' and whitespace.
      order = value.split(/[;,\s]+/).filter((d) => d !== '');
    } else if (key === 'legacy') {
      if (letters !== undefined) throw new PropertyStringError(`boot ${JSON.stringify(text)} gives legacy letters twice`);
      letters = value;
    } else {
      options[key] = value;
    }
  }
  if (letters !== undefined && !LEGACY.test(letters)) {
    throw new PropertyStringError(`boot ${JSON.stringify(text)}: legacy boot letters must match [acdn]{1,4}`);
  }
  // order= overrides legacy letters when both are given, as in PVE.
  if (order !== undefined) return { kind: 'order', order, options };
  return { kind: 'legacy', letters: letters ?? 'cdn', options };
}

export function formatBoot(boot: PveBoot): string {
  if (boot.kind === 'legacy') return formatPropertyString({ defaultValue: boot.letters, pairs: sortedPairs(boot.options) });
  return formatPropertyString({ pairs: sortedPairs({ ...boot.options, order: boot.order.join(';') }) });
}

export const pveBootOrderCodec = { parse: parseBoot, format: formatBoot };

/** The devices of a VM that matter for resolving a legacy boot string. */
export interface LegacyBootDevices {
  /** Drive keys in PVE's order (ide0-3, sata0-5, scsi0-30, virtio0-15), with whether each is a CD-ROM (cloud-init excluded). */
  drives: { key: string; cdrom: boolean; cloudInit: boolean }[];
  /** NIC keys in order (net0, net1, ...). */
  nets: string[];
  /** The legacy `bootdisk` key. */
  bootdisk?: string;
}

/**
 * The order a legacy config boots in, as PVE derives it (bootorder_from_legacy): each letter's
 * devices in turn, CD-ROMs for d (every CD-ROM drive, cloud-init drives excluded), the bootdisk
 * for c, every NIC for n. Floppies (a) are gone.
 */
export function resolveLegacyBootOrder(letters: string, devices: LegacyBootDevices): string[] {
  const order: string[] = [];
  for (const letter of new Set(letters.split(''))) {
    if (letter === 'c') {
      const disk = devices.drives.find((d) => d.key === devices.bootdisk && !d.cdrom && !d.cloudInit);
      if (disk) order.push(disk.key);
    } else if (letter === 'd') {
      for (const d of devices.drives) if (d.cdrom && !d.cloudInit) order.push(d.key);
    } else if (letter === 'n') {
      order.push(...devices.nets);
    }
  }
  return order;
}
