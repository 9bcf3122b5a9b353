// SIMULATOR ONLY. The state of a simulated Proxmox VE cluster: nodes, storages and their
// volumes, VMs (config, [PENDING] section, power, lock) and tasks (UPID, status, log).
import { createHash, randomBytes } from 'node:crypto';
import { formatUpid } from '../client/upid.js';
import type { SimGuest } from './guest.js';

/** A handler error, carried to the HTTP layer in PVE's envelope. */
export class SimError extends Error {
  constructor(readonly status: number, message: string, readonly errors?: Record<string, string>) {
    super(message);
  }
}

/** 400 as raise_param_exc gives it. */
export function paramError(errors: Record<string, string>): SimError {
  return new SimError(400, 'Parameter verification failed.\n', errors);
}

export interface SimVolume {
  volid: string;
  format: string;
  content: 'iso' | 'images' | 'snippets' | 'vztmpl' | 'import';
  size: number;
  ctime: number;
  vmid?: number;
  /** For checksum checks of downloaded files. */
  sha256?: string;
  bytes?: Buffer;
}

export interface SimStorage {
  storage: string;
  type: 'dir' | 'lvmthin' | 'nfs';
  content: string[];
  path?: string;
  total: number;
  shared: boolean;
  volumes: Map<string, SimVolume>;
}

export interface SimVm {
  vmid: number;
  node: string;
  /** Active config, values as they are written in the config file. */
  config: Record<string, string>;
  pending: Record<string, string>;
  /** Keys queued for deletion; the value is 2 for a forced delete. */
  pendingDelete: Map<string, 1 | 2>;
  running: boolean;
  startedAt?: number;
  /** What runs inside, behind the guest agent (tests attach one). */
  guest?: SimGuest;
  /** Snapshots by name, oldest first (the config file's [snapname] sections). */
  snapshots: Map<string, SimSnapshot>;
}

export interface SimSnapshot {
  description: string;
  snaptime: number;
  vmstate: boolean;
  parent?: string;
}

export interface SimTask {
  upid: string;
  node: string;
  type: string;
  id: string;
  user: string;
  pid: number;
  pstart: number;
  starttime: number;
  status: 'running' | 'stopped';
  exitstatus?: string;
  log: string[];
  finished: Promise<void>;
}

export class SimCluster {
  readonly nodes = new Map<string, { online: boolean }>();
  readonly storages = new Map<string, SimStorage>();
  readonly vms = new Map<number, SimVm>();
  readonly tasks = new Map<string, SimTask>();
  version = { version: '9.1.4', release: '9.1', repoid: '5e3a2b1c' };
  private nextPid = 0x1000;

  constructor(nodes: string[] = ['pve1']) {
    for (const n of nodes) this.nodes.set(n, { online: true });
    this.addStorage({ storage: 'local', type: 'dir', content: ['iso', 'vztmpl', 'snippets', 'import', 'images'], path: '/var/lib/vz', total: 100 * 2 ** 30, shared: false });
    this.addStorage({ storage: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], total: 500 * 2 ** 30, shared: false });
  }

  addStorage(s: Omit<SimStorage, 'volumes'>): SimStorage {
    const storage: SimStorage = { ...s, volumes: new Map() };
    this.storages.set(s.storage, storage);
    return storage;
  }

  /** A snippet file as an admin would copy it onto a snippets storage (PVE's API cannot upload one). */
  addSnippet(volid: string, text: string): SimVolume {
    const storage = this.storageOf(volid);
    const bytes = Buffer.from(text, 'utf8');
    const volume: SimVolume = { volid, format: 'snippet', content: 'snippets', size: bytes.length, ctime: Math.floor(Date.now() / 1000), bytes };
    storage.volumes.set(volid, volume);
    return volume;
  }

  addIso(volid: string, size = 600 * 2 ** 20): SimVolume {
    const storage = this.storageOf(volid);
    const volume: SimVolume = { volid, format: 'iso', content: 'iso', size, ctime: Math.floor(Date.now() / 1000) };
    storage.volumes.set(volid, volume);
    return volume;
  }

  storageOf(volid: string): SimStorage {
    const id = volid.split(':')[0]!;
    const storage = this.storages.get(id);
    if (!storage) throw new SimError(500, `storage '${id}' does not exist\n`);
    return storage;
  }

  /** Adds a VM as if it had been created earlier; disks named in the config get their volumes. */
  addVm(vm: { vmid: number; node?: string; config: Record<string, string | number>; running?: boolean }): SimVm {
    const node = vm.node ?? [...this.nodes.keys()][0]!;
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(vm.config)) config[k] = String(v);
    const simVm: SimVm = { vmid: vm.vmid, node, config, pending: {}, pendingDelete: new Map(), running: vm.running ?? false, startedAt: vm.running ? Date.now() : undefined, snapshots: new Map() };
    this.vms.set(vm.vmid, simVm);
    for (const value of Object.values(config)) {
      const volid = value.split(',')[0]!;
      if (/^[a-z][a-z0-9\-_.]*[a-z0-9]:(\d+\/)?vm-\d+-(disk-\d+|cloudinit)/i.test(volid) && this.storages.has(volid.split(':')[0]!)) {
        const storage = this.storageOf(volid);
        if (!storage.volumes.has(volid)) storage.volumes.set(volid, { volid, format: volid.endsWith('.qcow2') ? 'qcow2' : 'raw', content: 'images', size: 4 * 2 ** 20, ctime: 0, vmid: vm.vmid });
      }
    }
    return simVm;
  }

  /** The VM on that node, or PVE's 500 for a missing config file. */
  vm(node: string, vmid: number): SimVm {
    const vm = this.vms.get(vmid);
    if (!vm || vm.node !== node) throw new SimError(500, `Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist\n`);
    return vm;
  }

  node(name: string): void {
    if (!this.nodes.has(name)) throw new SimError(500, `hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known\n`);
  }

  /** The config file as PVE writes it; its SHA-1 is the digest, so pending changes move it too. */
  configFile(vm: SimVm): string {
    const lines = (o: Record<string, string>) => Object.keys(o).sort().map((k) => `${k}: ${o[k]}`).join('\n');
    let raw = lines(vm.config) + '\n';
    if (Object.keys(vm.pending).length || vm.pendingDelete.size) {
      raw += '\n[PENDING]\n' + lines(vm.pending) + '\n';
      if (vm.pendingDelete.size) raw += `delete: ${[...vm.pendingDelete].map(([k, f]) => (f === 2 ? `!${k}` : k)).join(',')}\n`;
    }
    return raw;
  }

  digest(vm: SimVm): string {
    return createHash('sha1').update(this.configFile(vm)).digest('hex');
  }

  /** Config with pending values applied and pending deletes removed (GET config's default). */
  effectiveConfig(vm: SimVm): Record<string, string> {
    const out = { ...vm.config, ...vm.pending };
    for (const k of vm.pendingDelete.keys()) delete out[k];
    return out;
  }

  /** Allocates a volume for a VM (a new disk or its cloud-init drive), named as PVE names it. */
  allocate(storageId: string, vmid: number, kind: 'disk' | 'cloudinit', sizeBytes: number, format?: string): SimVolume {
    const storage = this.storages.get(storageId);
    if (!storage) throw new SimError(500, `storage '${storageId}' does not exist\n`);
    if (!storage.content.includes('images')) throw new SimError(500, `storage '${storageId}' does not support vm images\n`);
    const dir = storage.type === 'dir' || storage.type === 'nfs';
    // Block storages hold raw volumes only (the LVM-thin plugin's alloc_image dies on anything else).
    if (format && !dir && format !== 'raw') throw new SimError(500, `unsupported format '${format}'\n`);
    let name = `vm-${vmid}-cloudinit`;
    if (kind === 'disk') {
      let n = 0;
      while ([...storage.volumes.keys()].some((v) => v.includes(`vm-${vmid}-disk-${n}`))) n++;
      name = `vm-${vmid}-disk-${n}`;
    }
    const fileFormat = dir ? (kind === 'cloudinit' ? 'qcow2' : format ?? 'raw') : 'raw';
    const volid = dir ? `${storageId}:${vmid}/${name}.${fileFormat}` : `${storageId}:${name}`;
    if (storage.volumes.has(volid)) throw new SimError(500, `unable to create image: volume '${volid}' already exists\n`);
    const volume: SimVolume = { volid, format: fileFormat, content: 'images', size: sizeBytes, ctime: Math.floor(Date.now() / 1000), vmid };
    storage.volumes.set(volid, volume);
    return volume;
  }

  /** Volumes a VM owns: allocated for it (vm-<vmid>-disk-N, vm-<vmid>-cloudinit). */
  ownedVolumes(vmid: number): string[] {
    return [...this.storages.values()].flatMap((s) => [...s.volumes.values()].filter((v) => v.vmid === vmid && v.content === 'images').map((v) => v.volid));
  }

  /** has_feature('snapshot'): every disk on a storage that snapshots (lvmthin, or qcow2 files). */
  canSnapshot(vm: SimVm): boolean {
    const disks = Object.entries(vm.config)
      .filter(([k, v]) => /^(ide|sata|scsi|virtio|efidisk|tpmstate)\d+$/.test(k) && !/media=cdrom/.test(v) && !/cloudinit/.test(v) && v !== 'none')
      .map(([, v]) => v.split(',')[0]!);
    return disks.every((volid) => {
      const storage = this.storages.get(volid.split(':')[0]!);
      return storage?.type === 'lvmthin' || volid.endsWith('.qcow2');
    });
  }

  free(volid: string): void {
    this.storages.get(volid.split(':')[0]!)?.volumes.delete(volid);
  }

  /**
   * Starts a task as fork_worker does: the UPID is returned at once, `work` runs afterwards and
   * its error (if any) becomes the exit status and the last log line.
   */
  startTask(node: string, type: string, id: string, user: string, durationMs: number, work: (log: (line: string) => void) => Promise<void> | void, failure?: string): SimTask {
    const starttime = Math.floor(Date.now() / 1000);
    const pid = this.nextPid++;
    const pstart = 0x100000 + randomBytes(2).readUInt16BE();
    const upid = formatUpid({ node, pid, pstart, starttime, type, id, user });
    const task: SimTask = { upid, node, type, id, user, pid, pstart, starttime, status: 'running', log: [], finished: Promise.resolve() };
    task.finished = (async () => {
      await new Promise((r) => setTimeout(r, durationMs));
      try {
        if (failure) throw new Error(failure);
        await work((line) => task.log.push(line));
        task.exitstatus = 'OK';
        task.log.push('TASK OK');
      } catch (err) {
        // The worker flattens the error: newlines become spaces (RESTEnvironment fork_worker).
        const text = (err instanceof SimError && err.errors
          ? `${err.status} ${err.message.trim()} ${Object.entries(err.errors).map(([k, v]) => `${k}: ${v.trim()}`).join(' ')}`
          : (err as Error).message).replace(/\n+/g, ' ').trim();
        task.exitstatus = text;
        task.log.push(`TASK ERROR: ${text}`);
      }
      task.status = 'stopped';
    })();
    this.tasks.set(upid, task);
    return task;
  }

  randomMac(): string {
    const b = randomBytes(5);
    return ['BC', ...[...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase())].join(':');
  }
}
