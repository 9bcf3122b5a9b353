// SIMULATOR ONLY. Making VMs as qemu-server does (behaviours.md §4, §7, §9): POST
// /nodes/{node}/qemu writes the config with `lock: create` before returning the UPID, and the
// qmcreate worker allocates the drives and writes the final config (or removes the VM and its
// new volumes when it fails); POST …/{vmid}/clone checks the source and the new id at once,
// holds `lock: clone` on the target, and the qmclone worker copies the config with new MACs, a
// new SMBIOS uuid, fresh volumes (full) or volumes based on the template's (linked).
import { randomUUID } from 'node:crypto';
import { SimError, type SimCluster, type SimTask, type SimVm } from './cluster.js';
import { applyConfigUpdate, driveFile, isCdromDrive, isCloudInitDrive, isDriveKey } from './vm-config.js';

const ISO_FILE = /^[a-z][a-z0-9\-_.]*[a-z0-9]:iso\/[^/]+\.(iso|img)$/i;
/** Parameters of the create call that are not config keys. */
const CREATE_ONLY = new Set(['node', 'vmid', 'storage', 'start', 'pool', 'archive', 'force', 'unique', 'bwlimit', 'live-restore', 'ha-managed', 'import-working-storage']);

export interface SimTaskOptions {
  user: string;
  durationMs: number;
  failure?: string;
  /** Called to start the VM at the end of the task (create with start=1). */
  start?: (vm: SimVm, log: (line: string) => void) => void;
}

const DRIVE_ORDER = ['ide', 'sata', 'scsi', 'virtio', 'efidisk', 'tpmstate'];

/** create_disks walks the drives as foreach_volume does (IDE, SATA, SCSI, VirtIO, EFI, TPM), which decides the disk numbers. */
function inDriveOrder(set: Record<string, string>): Record<string, string> {
  const rank = (k: string) => {
    const m = /^([a-z]+)(\d+)$/.exec(k);
    const bus = m && isDriveKey(k) ? DRIVE_ORDER.indexOf(m[1]!) : -1;
    return bus < 0 ? [-1, 0] : [bus, Number(m![2])];
  };
  return Object.fromEntries(Object.entries(set).sort(([a], [b]) => {
    const [ra, ia] = rank(a);
    const [rb, ib] = rank(b);
    return ra! - rb! || ia! - ib!;
  }));
}

/** POST /nodes/{node}/qemu. */
export function simCreateVm(cluster: SimCluster, params: Record<string, unknown>, opts: SimTaskOptions): SimTask {
  const node = params.node as string;
  const vmid = params.vmid as number;
  cluster.node(node);
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (!CREATE_ONLY.has(k)) set[k] = String(v);
  if ('cdrom' in set) {
    set.ide2 = /(^|,)media=/.test(set.cdrom!) ? set.cdrom! : `${set.cdrom},media=cdrom`;
    delete set.cdrom;
  }
  const errors: Record<string, string> = {};
  for (const [k, v] of Object.entries(set)) {
    if (isDriveKey(k) && ISO_FILE.test(driveFile(v)) && !isCdromDrive(v)) errors[k] = "explicit 'media=cdrom' is required for iso images";
  }
  if (Object.keys(errors).length) throw new SimError(400, 'Parameter verification failed.\n', errors);
  // create_and_lock_config: the id is taken cluster-wide, whichever node holds it.
  const existing = cluster.vms.get(vmid);
  if (existing) throw new SimError(500, `unable to create VM ${vmid} - VM ${vmid} already exists on node '${existing.node}'\n`);
  const vm: SimVm = { vmid, node, config: { lock: 'create' }, pending: {}, pendingDelete: new Map(), running: false, snapshots: new Map() };
  cluster.vms.set(vmid, vm);

  return cluster.startTask(node, 'qmcreate', String(vmid), opts.user, opts.durationMs, (log) => {
    if (opts.failure) {
      cluster.vms.delete(vmid);
      throw new Error(opts.failure);
    }
    const before = new Set([...cluster.storages.values()].flatMap((s) => [...s.volumes.keys()]));
    try {
      vm.config = {};
      applyConfigUpdate(cluster, vm, { set: inDriveOrder(set), delete: [], revert: [], force: false }, log, params.storage as string | undefined);
      vm.config.smbios1 ??= `uuid=${randomUUID()}`;
      vm.config.vmgenid ??= randomUUID();
      vm.config.meta = `creation-qemu=9.2.0,ctime=${Math.floor(Date.now() / 1000)}`;
      // get_default_bootdevices: first disk, first CD-ROM, first NIC.
      if (!('boot' in vm.config)) {
        const drives = Object.keys(vm.config).filter((k) => isDriveKey(k) && !/^(efidisk|tpmstate)/.test(k));
        const disk = drives.find((k) => !isCdromDrive(vm.config[k]!));
        const cdrom = drives.find((k) => isCdromDrive(vm.config[k]!) && !isCloudInitDrive(vm.config[k]!));
        const net = Object.keys(vm.config).filter((k) => /^net\d+$/.test(k)).sort()[0];
        const order = [disk, cdrom, net].filter((d): d is string => d !== undefined);
        if (order.length) vm.config.boot = `order=${order.join(';')}`;
      }
    } catch (err) {
      // The worker removes what it made: the new volumes and the config file.
      for (const s of cluster.storages.values()) for (const volid of [...s.volumes.keys()]) if (!before.has(volid) && s.volumes.get(volid)!.vmid === vmid) s.volumes.delete(volid);
      cluster.vms.delete(vmid);
      throw err;
    }
    if (params.start === 1) opts.start?.(vm, log);
  });
}

/** POST /nodes/{node}/qemu/{vmid}/clone. */
export function simCloneVm(cluster: SimCluster, params: Record<string, unknown>, opts: SimTaskOptions): SimTask {
  const node = params.node as string;
  cluster.node(node);
  const source = cluster.vm(node, params.vmid as number);
  const newid = params.newid as number;
  const targetNode = (params.target as string | undefined) ?? node;
  cluster.node(targetNode);
  const template = source.config.template === '1';
  const full = params.full === undefined ? !template : params.full === 1;
  if (!full && params.storage !== undefined) throw new SimError(500, "parameter 'storage' not allowed for linked clones\n");
  if (!full && params.format !== undefined) throw new SimError(500, "parameter 'format' not allowed for linked clones\n");
  if (!full && !template) throw new SimError(500, 'Linked clone feature is not supported for this VM: it is not a template\n');
  if (source.config.lock) throw new SimError(500, `VM is locked (${source.config.lock})\n`);
  if (cluster.vms.has(newid)) throw new SimError(500, `unable to create VM ${newid}: config file already exists\n`);
  const target: SimVm = { vmid: newid, node: targetNode, config: { lock: 'clone' }, pending: {}, pendingDelete: new Map(), running: false, snapshots: new Map() };
  cluster.vms.set(newid, target);
  const sourceConfig = cluster.effectiveConfig(source);

  return cluster.startTask(node, 'qmclone', String(source.vmid), opts.user, opts.durationMs, (log) => {
    if (opts.failure) {
      cluster.vms.delete(newid);
      throw new Error(opts.failure);
    }
    const made: string[] = [];
    try {
      const config: Record<string, string> = {};
      for (const [key, value] of Object.entries(sourceConfig)) {
        if (['lock', 'template', 'vmgenid', 'smbios1', 'meta'].includes(key) || /^unused\d+$/.test(key)) continue;
        if (/^net\d+$/.test(key)) {
          config[key] = value.replace(/^([a-z0-9]+)=[0-9A-Fa-f:]{17}/, (_, model: string) => `${model}=${cluster.randomMac()}`);
          continue;
        }
        if (isDriveKey(key) && isCloudInitDrive(value)) {
          const storage = driveFile(value).split(':')[0]!;
          const volume = cluster.allocate(storage, newid, 'cloudinit', 4 * 2 ** 20);
          made.push(volume.volid);
          config[key] = [volume.volid, ...value.split(',').slice(1)].join(',');
          continue;
        }
        if (isDriveKey(key) && !isCdromDrive(value)) {
          const file = driveFile(value);
          const old = cluster.storageOf(file).volumes.get(file);
          const storageId = full ? ((params.storage as string | undefined) ?? file.split(':')[0]!) : file.split(':')[0]!;
          const sized = /(?:^|,)size=(\d+)([KMGT]?)(?:,|$)/.exec(value);
          const fromConfig = sized ? Number(sized[1]) * 1024 ** ' KMGT'.indexOf(sized[2] || ' ') : 0;
          const volume = cluster.allocate(storageId, newid, 'disk', fromConfig || old?.size || 0, full ? (params.format as string | undefined) : undefined);
          made.push(volume.volid);
          log(`${full ? 'create full clone' : 'create linked clone'} of drive ${key} (${file})`);
          config[key] = [volume.volid, ...value.split(',').slice(1)].join(',');
          continue;
        }
        config[key] = value;
      }
      config.name = (params.name as string | undefined) ?? `Copy-of-VM-${sourceConfig.name ?? source.vmid}`;
      if (params.description !== undefined) config.description = params.description as string;
      config.smbios1 = `uuid=${randomUUID()}`;
      if (sourceConfig.vmgenid) config.vmgenid = randomUUID();
      target.config = config;
    } catch (err) {
      for (const volid of made) cluster.free(volid);
      cluster.vms.delete(newid);
      throw err;
    }
  });
}
