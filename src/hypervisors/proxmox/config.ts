// A PVE VM config (the `data` of GET /nodes/{node}/qemu/{vmid}/config) read into the planner's
// hypervisor-neutral ObservedVm. Only what the planner decides on is read; the config itself stays
// the source of truth for the writes (plan-writes.ts reads it again for the exact drive strings).
import type { Device, MachineFacts, Nic, ObservedVm } from '../../planning/model.js';
import { parseBoot, resolveLegacyBootOrder } from './codecs/boot.js';
import { isCloudInitDrive, parseDiskSize, parseDrive, type PveDrive } from './codecs/drive.js';
import { parseNet } from './codecs/net.js';
import { parsePropertyString, PropertyStringError } from './codecs/property-string.js';
import { ownerOf } from '../owner.js';

/** The config object as PVE returns it: strings, numbers (integers, 0/1 booleans) and the digest. */
export type PveVmConfig = Record<string, string | number | undefined>;

export class PveConfigError extends Error {
  readonly code = 'InvalidPveConfig';
  constructor(readonly key: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Drive keys in PVE's own order (foreach_volume): IDE, SATA, SCSI, VirtIO. */
export const PVE_DRIVE_KEYS: readonly string[] = [
  ...range(4).map((i) => `ide${i}`),
  ...range(6).map((i) => `sata${i}`),
  ...range(31).map((i) => `scsi${i}`),
  ...range(16).map((i) => `virtio${i}`),
];

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export interface ReadPveConfigOptions {
  /** Power state from status/current; the config alone does not say. */
  power?: ObservedVm['power'];
  /** The template this VM was cloned from, when the caller knows it (PVE's config does not record it). */
  template?: string;
  /** Keys PVE holds as pending (from GET …/pending). */
  pending?: string[];
}

function text(config: PveVmConfig, key: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null) return undefined;
  return String(value);
}

function parseOrExplain<T>(key: string, value: string, parse: (s: string) => T): T {
  try {
    return parse(value);
  } catch (err) {
    if (err instanceof PropertyStringError) throw new PveConfigError(key, `config key ${key}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The parsed drives of a config by key, in PVE's order. */
export function readPveDrives(config: PveVmConfig): Map<string, PveDrive> {
  const drives = new Map<string, PveDrive>();
  for (const key of PVE_DRIVE_KEYS) {
    const value = text(config, key);
    if (value !== undefined) drives.set(key, parseOrExplain(key, value, parseDrive));
  }
  return drives;
}

export function readMachineFacts(config: PveVmConfig): MachineFacts {
  const arch = text(config, 'arch') === 'aarch64' ? 'aarch64' : 'x86_64';
  const machineValue = text(config, 'machine');
  const type = machineValue === undefined ? undefined : (parseOrExplain('machine', machineValue, parsePropertyString).defaultValue
    ?? parsePropertyString(machineValue).pairs.find(([k]) => k === 'type')?.[1]);
  let machine: MachineFacts['machine'];
  if (arch === 'aarch64' || type?.startsWith('virt')) machine = 'virt';
  else if (type !== undefined && /q35/.test(type)) machine = 'q35';
  else machine = 'pc';
  const firmware = text(config, 'bios') === 'ovmf' ? 'uefi' : 'bios';
  return { machine, arch, firmware };
}

function deviceOf(slot: string, drive: PveDrive): Device {
  const kind = isCloudInitDrive(drive) ? 'cloudinit' : drive.media === 'cdrom' ? 'cdrom' : 'disk';
  const device: Device = { slot, kind };
  if (drive.file !== 'none') device.volume = drive.file;
  const size = drive.size === undefined ? undefined : parseDiskSize(drive.size);
  if (size !== undefined) device.sizeBytes = size;
  return device;
}

function readNics(config: PveVmConfig): Nic[] {
  const nics: Nic[] = [];
  for (const key of Object.keys(config).filter((k) => /^net\d+$/.test(k)).sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))) {
    const net = parseOrExplain(key, text(config, key) as string, parseNet);
    nics.push({ slot: key, mac: net.macaddr ?? '', model: net.model });
  }
  return nics;
}

/** The boot order a config boots in: `order=` as given, a legacy letter string resolved as PVE does. */
export function readBootOrder(config: PveVmConfig, drives: Map<string, PveDrive>, nics: Nic[]): string[] {
  const bootValue = text(config, 'boot') ?? '';
  const boot = parseOrExplain('boot', bootValue, parseBoot);
  if (boot.kind === 'order') return boot.order;
  const bootdisk = text(config, 'bootdisk');
  return resolveLegacyBootOrder(boot.letters, {
    drives: [...drives].map(([key, drive]) => ({ key, cdrom: drive.media === 'cdrom', cloudInit: isCloudInitDrive(drive) })),
    nets: nics.map((n) => n.slot),
    ...(bootdisk === undefined ? {} : { bootdisk }),
  });
}

export function readTags(config: PveVmConfig): string[] {
  const tags = text(config, 'tags');
  if (tags === undefined) return [];
  return tags.split(/[;,\s]+/).filter((t) => t !== '');
}

/** Reads a PVE VM config into the planner's view of the VM. */
export function observedVmFromPveConfig(config: PveVmConfig, options: ReadPveConfigOptions = {}): ObservedVm {
  const drives = readPveDrives(config);
  const nics = readNics(config);
  const osHints: ObservedVm['osHints'] = {};
  const ostype = text(config, 'ostype');
  if (ostype !== undefined) osHints.ostype = ostype;
  const tags = readTags(config);
  if (tags.length > 0) osHints.tags = tags;
  if (options.template !== undefined) osHints.template = options.template;
  const observed: ObservedVm = {
    name: text(config, 'name') ?? '',
    osHints,
    machine: readMachineFacts(config),
    devices: [...drives].map(([slot, drive]) => deviceOf(slot, drive)),
    nics,
    bootOrder: readBootOrder(config, drives, nics),
    power: options.power ?? 'Unknown',
  };
  const digest = text(config, 'digest');
  if (digest !== undefined) observed.digest = digest;
  if (options.pending !== undefined) observed.pending = options.pending;
  const smbios = text(config, 'smbios1');
  const uuid = smbios === undefined ? undefined : parsePropertyString(smbios).pairs.find(([k]) => k === 'uuid')?.[1];
  if (uuid !== undefined) observed.uuid = uuid;
  const owner = ownerOf(text(config, 'description'));
  if (owner !== undefined) observed.createdBy = owner;
  const lock = text(config, 'lock');
  if (lock !== undefined) observed.lock = lock;
  return observed;
}
