// A Plan turned into the writes the PVE API takes, in an order where each request is valid on
// its own:
//   1. a boot order without the devices about to go (PVE will not unplug a boot device),
//   2. one `delete=` for ejected ISOs and the old cloud-init drive,
//   3. new drives (`<storage>:cloudinit` allocates a cloud-init volume; ISOs always carry
//      media=cdrom, which PVE demands) together with the final boot order, which may name them,
//   4. PUT …/cloudinit to regenerate the image.
// Cloud-init keys due with the change (ci*, ipconfigN: options.cloudInitKeys) go in the last
// config request, and the image is regenerated once at the end: `qm set` takes a new drive and
// its ci* keys together, and one regeneration makes the image from both.
// The cloud-init drive must be gone (request 2) before the new one is asked for (request 3):
// PVE refuses a second cloud-init drive even while the first one is pending deletion.
// Only the first config write carries the digest the plan was made against; the later ones
// change a config this sequence itself changed, so the driver re-reads the digest between them.
import type { Plan, Step } from '../../planning/model.js';
import { formatBoot } from './codecs/boot.js';
import { formatDrive, isCloudInitDrive, isIsoVolume, storageOf, type PveDrive } from './codecs/drive.js';
import { readPveDrives, type PveVmConfig } from './config.js';

export interface PveRequest {
  method: 'POST' | 'PUT';
  path: string;
  params: Record<string, string>;
}

export interface PveWrites {
  /** Config keys the plan adds or changes → the value written. */
  after: Record<string, string>;
  /** Config keys the plan removes. */
  delete: string[];
  steps: PveRequest[];
  /** The plan's warnings, then those of the translation. */
  warnings: string[];
}

export interface PveWritesOptions {
  node?: string;
  vmid?: number | string;
  /** Storage for a new cloud-init volume; by default the old cloud-init volume's, else the first disk's. */
  cloudInitStorage?: string;
  /**
   * Cloud-init keys to write with the change. They are not the plan's: they stay out of `after`
   * and `delete` (a cipassword is a secret), only the requests carry them.
   */
  cloudInitKeys?: { set: Record<string, string>; delete: string[] };
}

export class PveWritesError extends Error {
  readonly code = 'PlanNotWritable';
  constructor(message: string) {
    super(message);
  }
}

/** The vmid a config's own volumes name (vm-101-disk-0 → 101), when the caller did not say. */
export function inferVmid(config: PveVmConfig): string | undefined {
  for (const drive of readPveDrives(config).values()) {
    const m = /(?:^|[:/])vm-(\d+)-/.exec(drive.file);
    if (m) return m[1];
  }
  return undefined;
}

function cloudInitStorageFor(config: PveVmConfig, options: PveWritesOptions): string {
  if (options.cloudInitStorage) return options.cloudInitStorage;
  const drives = [...readPveDrives(config).values()];
  const fromCloudInit = drives.find(isCloudInitDrive);
  const fromDisk = drives.find((d) => d.media !== 'cdrom' && !isCloudInitDrive(d));
  const storage = storageOf(fromCloudInit?.file ?? '') ?? storageOf(fromDisk?.file ?? '');
  if (!storage) throw new PveWritesError('no storage known for the new cloud-init drive: the VM has no disk or cloud-init volume to take it from; name one (--storage)');
  return storage;
}

function isoDrive(volume: string, keep?: PveDrive): string {
  if (volume !== 'none' && !isIsoVolume(volume)) {
    throw new PveWritesError(`${volume} is not a PVE ISO volume (<storage>:iso/<name>.iso or .img)`);
  }
  // A medium change keeps the drive's other properties; the size belonged to the old medium.
  return formatDrive({ file: volume, media: 'cdrom', options: keep?.options ?? {} });
}

type Phase = 'boot' | 'remove' | 'add' | 'regenerate';

function phaseOf(step: Step, previous: Phase | undefined): Phase {
  switch (step.op) {
    case 'detachIso':
    case 'removeCloudInit':
      return 'remove';
    case 'attachIso':
    case 'swapMedia':
    case 'createCloudInit':
      return 'add';
    case 'regenerateCloudInit':
      return 'regenerate';
    case 'setBootOrder':
      // The final order goes with the new drives it may name.
      return previous === 'add' ? 'add' : 'boot';
  }
}

export function planToPveWrites(plan: Plan, config: PveVmConfig, options: PveWritesOptions = {}): PveWrites {
  const node = options.node ?? '{node}';
  const vmid = options.vmid === undefined ? inferVmid(config) ?? '{vmid}' : String(options.vmid);
  const configPath = `/nodes/${node}/qemu/${vmid}/config`;
  const drives = readPveDrives(config);
  const warnings: string[] = [...plan.warnings];

  const groups: { phase: Phase; set: Record<string, string>; delete: string[] }[] = [];
  let previous: Phase | undefined;
  for (const step of plan.steps) {
    const phase = phaseOf(step, previous);
    let group = groups.at(-1);
    if (!group || group.phase !== phase) {
      group = { phase, set: {}, delete: [] };
      groups.push(group);
    }
    previous = phase;
    switch (step.op) {
      case 'detachIso':
      case 'removeCloudInit':
        group.delete.push(step.slot);
        break;
      case 'attachIso':
        group.set[step.slot] = isoDrive(step.volume);
        break;
      case 'swapMedia':
        group.set[step.slot] = isoDrive(step.to, drives.get(step.slot));
        break;
      case 'createCloudInit':
        group.set[step.slot] = `${cloudInitStorageFor(config, options)}:cloudinit`;
        break;
      case 'setBootOrder':
        if (step.order.length === 0) {
          warnings.push('PVE cannot store an empty boot order; the boot key is left as PVE rewrites it');
          break;
        }
        group.set.boot = formatBoot({ kind: 'order', order: step.order, options: {} });
        // order= supersedes the legacy bootdisk; PVE drops it too, saying so keeps `delete` honest.
        if (config.bootdisk !== undefined && !groups.some((g) => g.delete.includes('bootdisk'))) group.delete.push('bootdisk');
        break;
      case 'regenerateCloudInit':
        break;
    }
  }

  const steps: PveRequest[] = [];
  const after: Record<string, string> = {};
  const deleted = new Set<string>();
  for (const group of groups) {
    if (group.phase === 'regenerate') {
      steps.push({ method: 'PUT', path: `/nodes/${node}/qemu/${vmid}/cloudinit`, params: {} });
      continue;
    }
    if (Object.keys(group.set).length === 0 && group.delete.length === 0) continue;
    const params: Record<string, string> = { ...group.set };
    if (group.delete.length > 0) params.delete = group.delete.join(',');
    if (!steps.some((s) => s.path === configPath) && config.digest !== undefined) params.digest = String(config.digest);
    steps.push({ method: 'POST', path: configPath, params });
    for (const key of group.delete) {
      delete after[key];
      deleted.add(key);
    }
    for (const [key, value] of Object.entries(group.set)) {
      after[key] = value;
      deleted.delete(key);
    }
  }
  if (options.cloudInitKeys) withCloudInitKeys(steps, options.cloudInitKeys, configPath, `/nodes/${node}/qemu/${vmid}/cloudinit`, config);
  // Keys set back to what they were are no change.
  for (const [key, value] of Object.entries(after)) {
    if (config[key] !== undefined && String(config[key]) === value) delete after[key];
  }
  return {
    after,
    delete: [...deleted].filter((key) => config[key] !== undefined).sort(),
    steps,
    warnings,
  };
}

/** Adds the cloud-init keys to the last config request (or a new one) and ends with one regeneration. */
function withCloudInitKeys(steps: PveRequest[], keys: { set: Record<string, string>; delete: string[] }, configPath: string, regeneratePath: string, config: PveVmConfig): void {
  const regenerate = steps.findIndex((s) => s.path === regeneratePath);
  if (regenerate >= 0) steps.splice(regenerate, 1);
  if (Object.keys(keys.set).length > 0 || keys.delete.length > 0) {
    let last = steps.findLast((s) => s.path === configPath);
    if (!last) {
      last = { method: 'POST', path: configPath, params: config.digest !== undefined ? { digest: String(config.digest) } : {} };
      steps.push(last);
    }
    Object.assign(last.params, keys.set);
    const deleted = [...(last.params.delete ? last.params.delete.split(',') : []), ...keys.delete];
    if (deleted.length > 0) last.params.delete = deleted.join(',');
  }
  steps.push({ method: 'PUT', path: regeneratePath, params: {} });
}
