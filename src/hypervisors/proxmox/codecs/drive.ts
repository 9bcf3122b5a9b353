// Drive values (ideN, sataN, scsiN, virtioN): `local-lvm:vm-101-disk-0,size=32G`,
// `local:iso/x.iso,media=cdrom`, `none,media=cdrom`, `local-lvm:vm-101-cloudinit,media=cdrom`.
// The file comes first (it is the schema's default key; `file=` and its alias `volume=` are
// accepted too), then the other properties sorted, as PVE prints them. Properties this codec has
// no field for are kept verbatim in `options`, so a drive we rewrite keeps its cache, discard,
// iothread and the rest.
import { formatPropertyString, parsePropertyString, PropertyStringError, sortedPairs } from './property-string.js';

export interface PveDrive {
  /** Volume id (local-lvm:vm-101-disk-0), `none` (empty CD-ROM), `cdrom` (host drive), an absolute path, or an allocation request (local-lvm:32, local-lvm:cloudinit). */
  file: string;
  media?: 'cdrom' | 'disk';
  /** Size as PVE prints it: 32G, 4M, 1T, 512K, or bytes without a unit. */
  size?: string;
  /** Every other property, verbatim. */
  options: Record<string, string>;
}

// PVE's drive_is_cloudinit: the file names a cloud-init volume (vm-<id>-cloudinit[.fmt]) or asks
// for one (<storage>:cloudinit).
const CLOUDINIT_FILE = /[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|qcow|qcow2|qed|vmdk|cloop))?$/;
// PVE's ISO volume names: <storage>:iso/<name>.iso|.img.
const ISO_VOLUME = /^[a-z][a-z0-9._-]*[a-z0-9]:iso\/[^/]+\.(?:iso|img)$/i;

export function parseDrive(text: string): PveDrive {
  const list = parsePropertyString(text);
  const options: Record<string, string> = {};
  let file = list.defaultValue;
  let media: PveDrive['media'];
  let size: string | undefined;
  for (const [key, value] of list.pairs) {
    if (key === 'file' || key === 'volume') {
      if (file !== undefined) throw new PropertyStringError(`drive ${JSON.stringify(text)} names its file twice`);
      file = value;
    } else if (key === 'media') {
      if (value !== 'cdrom' && value !== 'disk') throw new PropertyStringError(`drive ${JSON.stringify(text)}: media must be cdrom or disk, not ${JSON.stringify(value)}`);
      media = value;
    } else if (key === 'size') {
      size = value;
    } else {
      options[key] = value;
    }
  }
  if (file === undefined || file === '') throw new PropertyStringError(`drive ${JSON.stringify(text)} has no file`);
  const drive: PveDrive = { file, options };
  if (media !== undefined) drive.media = media;
  if (size !== undefined) drive.size = size;
  return drive;
}

export function formatDrive(drive: PveDrive): string {
  const record: Record<string, string> = { ...drive.options };
  if (drive.media !== undefined) record.media = drive.media;
  if (drive.size !== undefined) record.size = drive.size;
  return formatPropertyString({ defaultValue: drive.file, pairs: sortedPairs(record) });
}

export const pveDriveCodec = { parse: parseDrive, format: formatDrive };

export function isCloudInitDrive(drive: PveDrive): boolean {
  return CLOUDINIT_FILE.test(drive.file);
}

/** A CD-ROM drive (ISO, empty, or host drive), cloud-init drives excluded. */
export function isCdromDrive(drive: PveDrive): boolean {
  return drive.media === 'cdrom' && !isCloudInitDrive(drive);
}

export function isEmptyCdrom(drive: PveDrive): boolean {
  return isCdromDrive(drive) && drive.file === 'none';
}

export function isIsoVolume(volume: string): boolean {
  return ISO_VOLUME.test(volume);
}

/** The storage part of a volume id (`local-lvm` of `local-lvm:vm-101-disk-0`), if it has one. */
export function storageOf(volume: string): string | undefined {
  const m = /^([a-z][a-z0-9._-]*[a-z0-9]):/i.exec(volume);
  return m?.[1];
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `32G` → bytes. Undefined when the text is not a PVE size. */
export function parseDiskSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (SIZE_UNITS[m[2] as string] as number));
}
