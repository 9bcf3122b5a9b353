// SIMULATOR ONLY. How PVE changes a VM config (qemu-server's $update_vm_api and friends): every
// change goes through [PENDING]; a stopped VM applies it at once; a running VM hot-applies what
// it can (CD-ROM media swaps, cloud-init options, scsi/virtio disks) and keeps the rest pending
// until the next start. Drive rules: media=cdrom for ISOs, <storage>:cloudinit allocates
// vm-<id>-cloudinit, one cloud-init drive per VM, replaced disks become unusedN, replaced
// cloud-init volumes are freed, boot order devices must exist.
import { createHash, randomBytes } from 'node:crypto';
import { paramError, SimError, type SimCluster, type SimVm } from './cluster.js';

export interface ConfigRequest {
  set: Record<string, string>;
  delete: string[];
  revert: string[];
  force: boolean;
  digest?: string;
}

/** A value PVE takes as already crypt-hashed and stores as given. */
const CRYPTED = /^\$(?:[156]|2[ay])(\$.+){2}/;

/**
 * PVE stores cipassword crypt-hashed for non-Windows guests (encrypt_pw). The simulator keeps a
 * salted SHA-256 in crypt's $5$salt$hash shape (not the real sha256-crypt rounds): never the
 * plain text, a new salt each write, and checkable with simPasswordMatches.
 */
export function simCrypt(plain: string, salt = randomBytes(6).toString('base64url')): string {
  return `$5$${salt}$${createHash('sha256').update(`${salt}$${plain}`).digest('base64url')}`;
}

export function simPasswordMatches(stored: string | undefined, plain: string): boolean {
  const salt = /^\$5\$([^$]+)\$/.exec(stored ?? '')?.[1];
  return salt !== undefined && simCrypt(plain, salt) === stored;
}

const DRIVE_KEY = /^(ide|sata|scsi|virtio)\d+$|^efidisk0$|^tpmstate0$/;
const CLOUDINIT_FILE = /[:/](?:vm-\d+-)?cloudinit(?:\.(raw|qcow|qcow2|qed|vmdk|cloop))?$/;
const ISO_FILE = /^[a-z][a-z0-9\-_.]*[a-z0-9]:iso\/[^/]+\.(iso|img)$/i;
const NEW_DISK = /^(([^/:\s]+):)?(\d+(\.\d+)?)$/;
// "fast plug" options: written to the active config even while the VM runs (QemuServer.pm:4594).
const FAST_PLUG = /^(description|hookscript|lock|migrate_downtime|migrate_speed|name|onboot|protection|shares|startup|tags|vmstatestorage|ciuser|cipassword|citype|ciupgrade|cicustom|sshkeys|nameserver|searchdomain|ipconfig\d+)$/;

export const isDriveKey = (k: string) => DRIVE_KEY.test(k);

export function driveFile(value: string): string {
  const first = value.split(',')[0]!;
  return first.startsWith('file=') ? first.slice(5) : first.startsWith('volume=') ? first.slice(7) : first;
}

export function isCdromDrive(value: string): boolean {
  return /(^|,)media=cdrom(,|$)/.test(value);
}

export function isCloudInitDrive(value: string): boolean {
  return CLOUDINIT_FILE.test(driveFile(value));
}

/** The synchronous checks of POST/PUT config: they fail the HTTP call itself. */
export function precheckConfigUpdate(cluster: SimCluster, vm: SimVm, req: ConfigRequest, knownKeys: Set<string>): void {
  const errors: Record<string, string> = {};
  for (const key of [...req.delete, ...req.revert]) {
    if (!knownKeys.has(key)) errors[req.delete.includes(key) ? 'delete' : 'revert'] = `unknown option '${key}'`;
    else if (key in req.set) errors[key] = `unable to ${req.delete.includes(key) ? 'delete' : 'revert'} and set option '${key}' at the same time`;
  }
  for (const key of req.delete) if (req.revert.includes(key)) errors.delete = `unable to revert and delete option '${key}' at the same time`;
  for (const [key, value] of Object.entries(req.set)) {
    if (isDriveKey(key) && ISO_FILE.test(driveFile(value)) && !isCdromDrive(value)) errors[key] = "explicit 'media=cdrom' is required for iso images";
  }
  if (Object.keys(errors).length) throw paramError(errors);
  if (req.digest && req.digest !== cluster.digest(vm)) throw new SimError(500, 'checksum mismatch (file change by other user?)\n');
  const lock = vm.config.lock;
  if (lock) throw new SimError(500, `VM is locked (${lock})\n`);
}

/** The change itself (inside the qmconfig task for POST, inside the request for PUT). */
export function applyConfigUpdate(cluster: SimCluster, vm: SimVm, req: ConfigRequest, log: (line: string) => void, defaultStorage?: string): void {
  const before = cluster.effectiveConfig(vm);
  for (const key of req.revert) {
    delete vm.pending[key];
    vm.pendingDelete.delete(key);
  }
  for (const key of req.delete) {
    if (!(key in before)) {
      log(`cannot delete '${key}' - not set in current configuration!`);
      continue;
    }
    delete vm.pending[key];
    vm.pendingDelete.set(key, req.force ? 2 : 1);
  }

  for (const [key, raw] of Object.entries(req.set)) {
    let value = raw;
    if (isDriveKey(key)) value = allocateDrive(cluster, vm, key, value, before, log, defaultStorage);
    if (key === 'cipassword' && !/^w/.test(String(before.ostype ?? req.set.ostype ?? '')) && !CRYPTED.test(value)) value = simCrypt(value);
    if (/^net\d+$/.test(key) && !/(^|,)(macaddr=|[a-z0-9-]+=[0-9A-Fa-f]{2}:)/.test(value)) value = addMac(cluster, value);
    vm.pending[key] = value;
    vm.pendingDelete.delete(key);
  }

  const after = cluster.effectiveConfig(vm);
  if ('boot' in req.set) {
    const order = /(?:^|,)order=([^,]*)/.exec(req.set.boot!)?.[1];
    for (const dev of order ? order.split(/[;,\s]+/).filter(Boolean) : []) {
      if (!(dev in after) && !(dev in vm.config)) throw new SimError(500, `invalid bootorder: device '${dev}' does not exist'\n`);
    }
    if (order && 'bootdisk' in after) vm.pendingDelete.set('bootdisk', 1);
  } else {
    rewriteBootOrder(vm, before, after);
  }

  // cleanup_pending: a pending value equal to the active one is no change at all.
  for (const [k, v] of Object.entries(vm.pending)) if (vm.config[k] === v) delete vm.pending[k];
  for (const k of vm.pendingDelete.keys()) if (!(k in vm.config) && !(k in vm.pending)) vm.pendingDelete.delete(k);

  if (!vm.running) {
    applyPending(cluster, vm, log);
    return;
  }
  hotplugPending(cluster, vm, log);
}

function allocateDrive(cluster: SimCluster, vm: SimVm, key: string, value: string, before: Record<string, string>, log: (line: string) => void, defaultStorage?: string): string {
  const file = driveFile(value);
  const rest = value.split(',').slice(1).filter((p) => !/^(file|volume)=/.test(p));
  const ci = /^([a-z][a-z0-9\-_.]*[a-z0-9]):cloudinit$/i.exec(file);
  if (ci) {
    const existing = Object.entries(before).find(([k, v]) => k !== key && isDriveKey(k) && isCloudInitDrive(v) && !vm.pendingDelete.has(k));
    if (existing) throw new SimError(500, `${key} - cloud-init drive is already attached at '${existing[0]}'\n`);
    const volume = cluster.allocate(ci[1]!, vm.vmid, 'cloudinit', 4 * 2 ** 20);
    log(`${key}: successfully created disk '${volume.volid},media=cdrom'`);
    return [volume.volid, ...rest.filter((p) => !p.startsWith('media=')), 'media=cdrom'].join(',');
  }
  const disk = NEW_DISK.exec(file);
  if (disk && key === 'efidisk0') {
    // The EFI vars volume has the firmware's size whatever number is given (4 MiB for efitype=4m, else 528 KiB).
    const fourMiB = rest.includes('efitype=4m');
    const volume = cluster.allocate(disk[2] ?? defaultStorage ?? 'local-lvm', vm.vmid, 'disk', fourMiB ? 4 * 2 ** 20 : 528 * 1024);
    log(`${key}: successfully created disk '${volume.volid},size=${fourMiB ? '4M' : '528K'}'`);
    return [volume.volid, ...rest.filter((p) => !p.startsWith('format=')), `size=${fourMiB ? '4M' : '528K'}`].join(',');
  }
  if (disk && !isCdromDrive(value)) {
    const sizeGiB = Number(disk[3]);
    // format= picks the image format at allocation; the printed entry names the volume instead.
    const format = /^format=(.+)$/.exec(rest.find((p) => p.startsWith('format=')) ?? '')?.[1];
    const volume = cluster.allocate(disk[2] ?? defaultStorage ?? 'local-lvm', vm.vmid, 'disk', sizeGiB * 2 ** 30, format);
    log(`${key}: successfully created disk '${volume.volid},size=${sizeGiB}G'`);
    return [volume.volid, ...rest.filter((p) => !p.startsWith('format=')), `size=${sizeGiB}G`].join(',');
  }
  return value;
}

function addMac(cluster: SimCluster, value: string): string {
  const parts = value.split(',');
  const first = parts[0]!;
  // model=virtio or the short form virtio: both become virtio=<mac>.
  const model = first.includes('=') ? (/(?:^|,)model=([^,]+)/.exec(value)?.[1] ?? 'virtio') : first;
  const others = parts.filter((p) => p !== first && !p.startsWith('model='));
  return [`${model}=${cluster.randomMac()}`, ...others].join(',');
}

/** Drives that leave drop out of `boot`; a new CD-ROM joins an existing order at its end. */
function rewriteBootOrder(vm: SimVm, before: Record<string, string>, after: Record<string, string>): void {
  const boot = after.boot;
  const order = boot ? /(?:^|,)order=([^,]*)/.exec(boot)?.[1] : undefined;
  if (order === undefined) return;
  let devices = order.split(';').filter(Boolean);
  const removed = devices.filter((d) => !(d in after));
  devices = devices.filter((d) => d in after);
  const addedCdroms = Object.keys(after).filter((k) => isDriveKey(k) && !(k in before) && isCdromDrive(after[k]!) && !isCloudInitDrive(after[k]!) && !devices.includes(k));
  if (removed.length === 0 && addedCdroms.length === 0) return;
  vm.pending.boot = `order=${[...devices, ...addedCdroms].join(';')}`;
}

/** vmconfig_apply_pending: everything pending becomes active (stopped VM, or at start). */
export function applyPending(cluster: SimCluster, vm: SimVm, log: (line: string) => void): void {
  for (const [key, force] of vm.pendingDelete) {
    const old = vm.config[key];
    if (old !== undefined && isDriveKey(key)) retireDrive(cluster, vm, key, old, force === 2, log);
    delete vm.config[key];
  }
  vm.pendingDelete.clear();
  for (const [key, value] of Object.entries(vm.pending)) {
    const old = vm.config[key];
    if (old !== undefined && old !== value && isDriveKey(key) && driveFile(old) !== driveFile(value)) retireDrive(cluster, vm, key, old, false, log);
    vm.config[key] = value;
  }
  vm.pending = {};
}

/** vmconfig_register_unused_drive: CD-ROMs are dropped, cloud-init freed, owned disks kept as unusedN. */
function retireDrive(cluster: SimCluster, vm: SimVm, key: string, value: string, force: boolean, log: (line: string) => void): void {
  const file = driveFile(value);
  if (isCloudInitDrive(value)) {
    cluster.free(file);
    return;
  }
  if (isCdromDrive(value) || file === 'none') return;
  if (!new RegExp(`(^|[:/])vm-${vm.vmid}-`).test(file)) return;
  if (force) {
    cluster.free(file);
    log(`${key}: removed disk '${file}'`);
    return;
  }
  let n = 0;
  while (`unused${n}` in vm.config || `unused${n}` in vm.pending) n++;
  vm.config[`unused${n}`] = file;
}

/** vmconfig_hotplug_pending: what a running VM takes now; the rest waits for a restart. */
function hotplugPending(cluster: SimCluster, vm: SimVm, log: (line: string) => void): void {
  const errors: Record<string, string> = {};
  for (const [key, force] of [...vm.pendingDelete]) {
    const old = vm.config[key];
    if (FAST_PLUG.test(key) || (/^(scsi|virtio)\d+$/.test(key) && old !== undefined && !isCdromDrive(old))) {
      if (old !== undefined && isDriveKey(key)) retireDrive(cluster, vm, key, old, force === 2, log);
      delete vm.config[key];
      vm.pendingDelete.delete(key);
    }
  }
  for (const [key, value] of Object.entries(vm.pending)) {
    const old = vm.config[key];
    if (FAST_PLUG.test(key)) {
      vm.config[key] = value;
      delete vm.pending[key];
      continue;
    }
    if (!isDriveKey(key)) continue; // boot, cores, machine, ...: never hot-applied
    if (old === undefined) {
      // Adding: scsi/virtio disks hotplug; ide/sata devices wait for a restart.
      if (/^(scsi|virtio)\d+$/.test(key) && !isCdromDrive(value)) {
        vm.config[key] = value;
        delete vm.pending[key];
      }
      continue;
    }
    if (isCdromDrive(old) !== isCdromDrive(value)) {
      errors[key] = 'hotplug problem - unable to change media type';
      continue;
    }
    if (isCdromDrive(old)) {
      // change_medium: a CD-ROM swap on any bus is live; a replaced cloud-init volume is freed.
      if (isCloudInitDrive(old) && driveFile(old) !== driveFile(value)) cluster.free(driveFile(old));
      vm.config[key] = value;
      delete vm.pending[key];
    }
  }
  if (Object.keys(errors).length) throw paramError(errors);
}
