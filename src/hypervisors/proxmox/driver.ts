// The Proxmox VE implementation of HypervisorDriver: the client speaks the API, this file turns
// a Hypervisor's spec and Secret into a connection and the API's answers into the driver's
// neutral shapes. Long tasks are returned (UPIDs), never awaited.
import type { Hypervisor } from '../../api/v1alpha1/hypervisor.js';
import type { CloudInitContent } from '../../planning/cloud-init.js';
import type { ObservedVm, Plan } from '../../planning/model.js';
import type { SecretData } from '../../store/store.js';
import {
  DriverError, redact, type ApplyOptions, type ApplyOutcome, type CloudInitWriteOutcome, type DiskInfo, type DriverFactory, type HypervisorDriver, type HypervisorInventory, type IsoDownloadRequest,
  type IsoVolumeInfo, type PowerAction, type TaskStatus, type VmCreateRequest, type VmRef,
} from '../driver.js';
import { pveCloneParams, pveCreateParams, PVE_CREATE_DEFAULTS } from './create-params.js';
import type { GuestAgent } from '../guest-agent.js';
import type { ProxmoxClient } from './client/api.js';
import { ProxmoxGuestAgent } from './guest-agent.js';
import { createProxmoxClient } from './client/create.js';
import { PveApiError } from './client/errors.js';
import type { PendingItem } from './client/types.js';
import { pveCloudInitWrite, type PveCloudInitWrite } from './cloud-init-config.js';
import { observedVmFromPveConfig, type PveVmConfig } from './config.js';
import { RecentConfigs } from './recent-configs.js';
import { SharedReads } from './shared-reads.js';
import { planToPveWrites } from './plan-writes.js';
import type { PveCredentials } from './client/transport.js';
import { parseUpid, taskExitIsError } from './client/upid.js';
import { taskLogProgress } from './client/task-progress.js';
import { byCodeUnits } from '../../order.js';

// Status lists have schema limits (hypervisor.ts); a cluster with more is summarised, not refused.
const MAX_NODES = 128;
const MAX_STORAGES = 256;
const MAX_ISOS = 2000;
/**
 * How long a listing is shared once it has arrived. A listing costs PVE and this process in
 * proportion to its length (a node's 2,500 VMs about 15 ms of CPU on both sides here, 5,000
 * images about 11 ms, a whole `pending` read 0.2 ms), while the reconciles of a converging fleet
 * ask for it all the time: kept 1 s at most it was listed about once a second per node and
 * storage, whatever its size. Kept 2 ms per entry (1 s to 10 s), listing work stays bounded as a
 * node grows. What goes stale is power and allocation: bootplane drops a node's power listing
 * whenever it changes a VM's power itself, and drift made elsewhere waits for the next resync
 * anyway.
 */
/** A volume's sizes from its storage's listing: virtual size and bytes on storage. */
interface ImageSizes { size?: number; used?: number }

/** Power as a VM list item or status/current tells it. */
function powerOf(status: { status?: string; qmpstatus?: string }): ObservedVm['power'] {
  return status.status !== 'running' ? 'Stopped' : status.qmpstatus === 'paused' ? 'Paused' : 'Running';
}

function listingKeepMs(entries: number): number {
  return Math.min(10_000, Math.max(1_000, entries * 2));
}
/** Storage types that keep images as files, so qcow2 is possible (PVE's block storages hold raw only). */
const FILE_STORAGES = new Set(['dir', 'nfs', 'cifs', 'glusterfs', 'cephfs', 'btrfs']);

export interface ProxmoxDriverOptions {
  /** Storage that downloads go to (spec.proxmox.isoStorage). */
  isoStorage: string;
  /** Node for downloads when the request names none (spec.proxmox.defaultNode). */
  defaultNode?: string;
  /** Storage holding cloud-init snippets for cicustom (spec.proxmox.snippetStorage). */
  snippetStorage?: string;
}

export class ProxmoxDriver implements HypervisorDriver {
  /** The config each VM had at its last read, by vmid, for the pass: a plan made on it is written from it. */
  private readonly configs = new RecentConfigs();
  /**
   * Power of every VM on a node from one GET /nodes/{node}/qemu, shared by the reads of the
   * next moment: a resync of a thousand VMs costs a handful of list calls, not a thousand
   * status calls. Dropped when bootplane changes a VM's power.
   */
  // What is kept of each listing is what is read from it (power; sizes), not PVE's whole items:
  // a 10,000-VM fleet's listings are kept for seconds, and the items were most of their memory.
  private readonly powerByNode = new SharedReads<Map<number, ObservedVm['power']>>((vms) => listingKeepMs(vms.size));
  private readonly isoListings = new SharedReads<Map<string, number | undefined>>((isos) => listingKeepMs(isos.size));
  private readonly imageListings = new SharedReads<Map<string, ImageSizes>>((images) => listingKeepMs(images.size));

  constructor(readonly client: ProxmoxClient, private readonly options: ProxmoxDriverOptions = { isoStorage: 'local' }) {}

  guestAgent(ref: VmRef): GuestAgent {
    if (!ref.node || ref.vmid === undefined) throw new DriverError('InvalidRef', 'a Proxmox VM is named by spec.proxmox.node and spec.proxmox.vmid');
    return new ProxmoxGuestAgent(this.client.node(ref.node).qemu(ref.vmid).agent);
  }

  async inventory(signal: AbortSignal): Promise<HypervisorInventory> {
    const version = await this.client.version({ signal });
    const nodes = (await this.client.nodes({ signal })).sort((a, b) => byCodeUnits(a.node, b.node)).slice(0, MAX_NODES);
    const online = nodes.filter((n) => n.status === 'online');
    const perNode = await Promise.all(online.map(async (n) => {
      const node = this.client.node(n.node);
      const storages = (await node.storages({ enabled: true }, { signal })).sort((a, b) => byCodeUnits(a.storage, b.storage));
      const isoStorages = storages.filter((s) => s.content.split(',').includes('iso') && s.active !== 0);
      const isos = (await Promise.all(isoStorages.map((s) => node.storage(s.storage).content({ content: 'iso' }, { signal })))).flat();
      return { node: n.node, storages, isos };
    }));

    // A shared storage (NFS, Ceph) shows up on every node: report it, and its ISOs, once.
    const storages: HypervisorInventory['storages'] = [];
    const seenShared = new Set<string>();
    const isos = new Map<string, { volume: string; sizeBytes?: number }>();
    for (const { node, storages: list, isos: found } of perNode) {
      for (const s of list) {
        if (s.shared) {
          if (seenShared.has(s.storage)) continue;
          seenShared.add(s.storage);
        }
        storages.push({
          name: s.storage, ...(s.shared ? {} : { node }), type: s.type,
          content: s.content.split(',').filter(Boolean).slice(0, 16),
          ...(s.total !== undefined ? { totalBytes: s.total } : {}),
          ...(s.avail !== undefined ? { availableBytes: s.avail } : {}),
        });
      }
      for (const iso of found) if (!isos.has(iso.volid)) isos.set(iso.volid, { volume: iso.volid, sizeBytes: iso.size });
    }
    return {
      version: version.version,
      nodes: nodes.map((n) => ({ name: n.node, online: n.status === 'online' })),
      storages: storages.slice(0, MAX_STORAGES),
      isos: [...isos.values()].sort((a, b) => byCodeUnits(a.volume, b.volume)).slice(0, MAX_ISOS),
    };
  }

  /**
   * One GET …/pending gives the whole config (active values, pending values, pending deletes and
   * the digest), so a VM costs two reads: that and status/current for power.
   */
  async readVm(ref: VmRef, signal: AbortSignal): Promise<ObservedVm | undefined> {
    const { node, vmid } = vmOf(ref);
    const api = this.client.node(node).qemu(vmid);
    let items: PendingItem[];
    try {
      items = await api.pending({ signal });
    } catch (err) {
      if (err instanceof PveApiError && err.isNotFound) {
        this.configs.delete(vmid);
        return undefined;
      }
      throw err;
    }
    const power = (await this.vmsOn(node, signal)).get(vmid) ?? powerOf(await api.status.current({ signal }));
    const { config, pending } = configFromPending(items);
    this.configs.set(vmid, config);
    return observedVmFromPveConfig(config, { power, pending });
  }

  private vmsOn(node: string, signal: AbortSignal): Promise<Map<number, ObservedVm['power']>> {
    return this.powerByNode.get(node, () => this.client.node(node).vms({ signal }).then((list) => new Map(list.map((v) => [Number(v.vmid), powerOf(v)]))));
  }

  /**
   * Writes the plan as PVE config requests, in the order plan-writes.ts gives. Each is a PUT: PVE
   * applies it inside the request (no task to wait for), and hotplug problems come back at once.
   * The first request carries the digest the plan was made against, so a VM changed meanwhile
   * is refused whole (DigestMismatch: re-read and re-plan). A later failure leaves earlier
   * requests applied: ApplyFailed, and the caller rolls back what it observes took effect.
   */
  async applyPlan(ref: VmRef, observed: ObservedVm, plan: Plan, signal: AbortSignal, options: ApplyOptions = {}): Promise<ApplyOutcome> {
    const { node, vmid } = vmOf(ref);
    const api = this.client.node(node).qemu(vmid);
    let config = this.configs.get(vmid);
    if (!config || config.digest !== observed.digest) {
      config = await api.config.get({ signal });
      if (config.digest !== observed.digest) throw new DriverError('DigestMismatch', `VM ${vmid} on ${node} changed since it was read (digest ${String(config.digest).slice(0, 12)}… is not ${observed.digest?.slice(0, 12)}…): re-read and re-plan.`);
    }
    // Cloud-init content due on the drive goes with the change (plan-writes.ts).
    const cloudInit = options.cloudInit ? await this.cloudInitKeys(node, vmid, options.cloudInit, config, signal) : undefined;
    const writes = planToPveWrites(plan, config, { node, vmid, cloudInitKeys: cloudInit });
    this.configs.delete(vmid); // whatever happens next, the cached config is stale
    for (const [i, request] of writes.steps.entries()) {
      try {
        if (request.path.endsWith('/cloudinit')) {
          await api.regenerateCloudInit({ signal });
          continue;
        }
        const { delete: del, digest, ...set } = request.params;
        await api.config.set({ set, delete: del ? del.split(',') : undefined, digest }, { signal });
      } catch (err) {
        if (i === 0 && err instanceof DriverError && err.code === 'DigestMismatch') throw err;
        const code = (err as { code?: string }).code ?? 'Error';
        const message = `Change ${i + 1} of ${writes.steps.length} to VM ${vmid} on ${node} failed (${code}): ${(err as Error).message}${i > 0 ? '; the earlier changes were applied' : ''}.`;
        // A request that carried a cloud-init password: PVE's answer should not echo it, and
        // if it ever does, the error (status, Events, logs) does not carry it on, nor its cause.
        const password = options.cloudInit?.password;
        if (password) throw new DriverError('ApplyFailed', redact(message, password));
        throw new DriverError('ApplyFailed', message, { cause: err });
      }
    }
    // Read back for what PVE left pending; the same read is the VM as it is now (a media plan
    // changes no power state, so the power read at the start of the pass still holds).
    const after = configFromPending(await api.pending({ signal }));
    this.configs.set(vmid, after.config);
    return {
      appliedSteps: plan.steps.length,
      ...(after.pending.length ? { pending: after.pending } : {}),
      observed: observedVmFromPveConfig(after.config, { power: observed.power, pending: after.pending }),
      ...(cloudInit ? { cloudInit: { incomplete: cloudInit.incomplete } } : {}),
    };
  }

  /**
   * Sets the ci* keys through the config endpoint (one PUT, no digest: these keys are bootplane's
   * alone and PVE applies them at once even on a running VM), then regenerates the drive. PVE
   * keeps cipassword hashed, so the content cannot be compared with the config: the controller
   * decides when to write by the content hash.
   */
  async writeCloudInit(ref: VmRef, _observed: ObservedVm, content: CloudInitContent, signal: AbortSignal): Promise<CloudInitWriteOutcome> {
    const { node, vmid } = vmOf(ref);
    const api = this.client.node(node).qemu(vmid);
    // The config as this pass read it, or read back after its change, when it is that recent
    // (ci* keys are bootplane's alone); a full one with its digest, not diskInfo's stand-in.
    const recent = this.configs.get(vmid);
    const current = recent?.digest !== undefined ? recent : await api.config.get({ signal });
    const write = await this.cloudInitKeys(node, vmid, content, current, signal);
    this.configs.delete(vmid);
    try {
      if (Object.keys(write.set).length > 0 || write.delete.length > 0) {
        await api.config.set({ set: write.set, delete: write.delete.length ? write.delete : undefined }, { signal });
      }
      await api.regenerateCloudInit({ signal });
      // The drives are as read above (ci* keys and a regenerated drive leave them as they are), so
      // diskInfo in this pass need not read the VM again. Without its old digest, the entry can
      // never stand in for a fresh read where one matters: applyPlan reads again.
      const { digest: _written, ...drives } = current;
      this.configs.set(vmid, drives);
    } catch (err) {
      // PVE's message names the key it refused; it does not echo the value.
      const code = (err as { code?: string }).code ?? 'Error';
      throw new DriverError('CloudInitWriteFailed', `Writing cloud-init keys ${[...Object.keys(write.set), ...write.delete].join(', ')} to VM ${vmid} on ${node} failed (${code}): ${(err as Error).message}`, { cause: err });
    }
    return { incomplete: write.incomplete };
  }

  /** The ci* keys for content against the config they change (custom parts need the snippet storage listed). */
  private async cloudInitKeys(node: string, vmid: number, content: CloudInitContent, config: PveVmConfig, signal: AbortSignal): Promise<PveCloudInitWrite> {
    const snippetStorage = this.options.snippetStorage;
    const wantsSnippets = content.userData !== undefined || content.networkConfig !== undefined;
    const snippets = wantsSnippets && snippetStorage
      ? new Set((await this.client.node(node).storage(snippetStorage).content({ content: 'snippets' }, { signal })).map((c) => c.volid))
      : undefined;
    return pveCloudInitWrite(content, config, { vmid, snippetStorage, snippets });
  }

  async taskStatus(_ref: VmRef, task: string, signal: AbortSignal): Promise<TaskStatus> {
    const status = await this.client.taskStatus(task, { signal });
    if (status.status === 'running') {
      const progressPercent = await this.taskProgress(task, signal);
      return { done: false, ...(progressPercent !== undefined ? { progressPercent } : {}) };
    }
    const exit = status.exitstatus ?? 'unexpected status';
    return { done: true, ok: !taskExitIsError(exit), message: exit };
  }

  /** How far a running download-url task is, from its log; other tasks log no progress. */
  async taskProgress(task: string, signal: AbortSignal): Promise<number | undefined> {
    if (parseUpid(task)?.type !== 'download') return undefined;
    return taskLogProgress((await this.client.taskLog(task, { signal, start: 0, limit: 5000 })).map((l) => l.t));
  }

  async power(ref: VmRef, action: PowerAction, signal: AbortSignal): Promise<{ task?: string }> {
    const { node, vmid } = vmOf(ref);
    this.powerByNode.delete(node);
    const status = this.client.node(node).qemu(vmid).status;
    const task = await (action === 'start' ? status.start({ signal })
      : action === 'stop' ? status.stop({ signal })
        : action === 'shutdown' ? status.shutdown({ signal })
          : status.reboot({ signal }));
    return { task };
  }

  /**
   * Starts a qmcreate (spec.hardware) or qmclone (spec.cloneFrom) task and returns its UPID. PVE
   * refuses a taken vmid at once (VmExists). Disks on block storages (LVM-thin, ZFS, RBD) can
   * only be raw: a qcow2 request there is refused here, naming the field, instead of failing
   * inside the task.
   */
  async createVm(ref: VmRef, request: VmCreateRequest, signal: AbortSignal): Promise<{ task?: string }> {
    const { node, vmid } = vmOf(ref);
    this.powerByNode.delete(node);
    if (request.source === 'clone') {
      const template = Number(request.cloneFrom?.template);
      if (!Number.isInteger(template) || template < 100) throw new DriverError('InvalidSpec', `spec.cloneFrom.template must be a Proxmox VM ID (a number of 100 or more), not ${JSON.stringify(request.cloneFrom?.template)}.`);
      const templateNode = await this.nodeOfVm(template, node, signal);
      if (!templateNode) throw new DriverError('TemplateNotFound', `Template VM ${template} (spec.cloneFrom.template) is on no online node.`);
      const params = pveCloneParams(vmid, request.name, request.cloneFrom?.full ?? true, request.owner, templateNode === node ? undefined : node);
      return { task: await this.client.node(templateNode).qemu(template).clone({ ...params, newid: String(vmid) }, { signal }) };
    }
    const hardware = request.hardware;
    if (!hardware) throw new DriverError('InvalidSpec', 'spec.hardware is required when spec.source is create.');
    const storages = new Map((await this.client.node(node).storages({}, { signal })).map((st) => [st.storage, st.type]));
    for (const [i, disk] of (hardware.disks ?? []).entries()) {
      const storage = disk.storage ?? PVE_CREATE_DEFAULTS.diskStorage;
      const type = storages.get(storage);
      if (type === undefined) throw new DriverError('InvalidSpec', `spec.hardware.disks[${i}].storage: storage ${storage} is not available on node ${node}.`);
      if (disk.format !== 'raw' && !FILE_STORAGES.has(type)) {
        throw new DriverError('InvalidSpec', `spec.hardware.disks[${i}].format: storage ${storage} (${type}) holds raw volumes only; set format: raw or choose a file-based storage for ${disk.format}.`);
      }
    }
    const params = pveCreateParams(vmid, request.name, hardware, request.owner, request.osFamily);
    return { task: await this.client.node(node).createVm({ ...params, vmid: String(vmid) }, { signal }) };
  }

  /** The node a VM lives on: `preferred` first, then every other online node. */
  private async nodeOfVm(vmid: number, preferred: string, signal: AbortSignal): Promise<string | undefined> {
    const online = (await this.client.nodes({ signal })).filter((n) => n.status === 'online').map((n) => n.node);
    for (const node of [preferred, ...online.filter((n) => n !== preferred).sort()]) {
      if (!online.includes(node)) continue;
      if ((await this.client.node(node).vms({ signal })).some((v) => Number(v.vmid) === vmid)) return node;
    }
    return undefined;
  }

  /**
   * Virtual size from the drive's `size=` (what PVE tells the guest) and the bytes on storage
   * from the storage's content list, one listing per storage the disks use.
   */
  async diskInfo(ref: VmRef, signal: AbortSignal): Promise<DiskInfo[]> {
    const { node, vmid } = vmOf(ref);
    // The config readVm just read in this pass (dropped whenever bootplane writes): a steady-state
    // pass costs no second config read, and the image listings are shared like the power list.
    const cached = this.configs.get(vmid);
    const vm = cached ? observedVmFromPveConfig(cached) : await this.readVm(ref, signal);
    if (!vm) throw new DriverError('VmNotFound', `VM ${vmid} does not exist on node ${node}.`);
    const disks = vm.devices.filter((d) => d.kind === 'disk' && d.volume);
    // Looked up in the shared listing of each storage, not copied: a listing holds every image
    // of every VM on that storage, and copying it per VM made a resync quadratic in VMs.
    const listings = new Map<string, Map<string, ImageSizes>>();
    for (const storage of new Set(disks.map((d) => storageOf(d.volume!)))) listings.set(storage, await this.imagesOn(node, storage, signal));
    return disks.map((d) => {
      const item = listings.get(storageOf(d.volume!))?.get(d.volume!);
      const capacityBytes = d.sizeBytes ?? item?.size ?? 0;
      return { slot: d.slot, volume: d.volume!, capacityBytes, allocationBytes: item?.used ?? item?.size ?? capacityBytes };
    });
  }

  async listSnapshots(ref: VmRef, signal: AbortSignal): Promise<string[]> {
    const { node, vmid } = vmOf(ref);
    const items = await this.client.node(node).qemu(vmid).snapshots({ signal });
    return items.map((s) => s.name).filter((name) => name !== 'current');
  }

  /** A qmsnapshot task (disks, plus RAM on a running VM so the snapshot resumes where it was). */
  async createSnapshot(ref: VmRef, name: string, description: string, signal: AbortSignal): Promise<{ task?: string }> {
    const { node, vmid } = vmOf(ref);
    const running = (await this.client.node(node).qemu(vmid).status.current({ signal })).status === 'running';
    const task = await this.client.node(node).qemu(vmid).snapshot({ snapname: name, description, ...(running ? { vmstate: true } : {}) }, { signal });
    return { task };
  }

  async deleteVm(ref: VmRef, signal: AbortSignal): Promise<{ task?: string }> {
    const { node, vmid } = vmOf(ref);
    this.powerByNode.delete(node);
    const status = await this.client.node(node).qemu(vmid).status.current({ signal });
    if (status.status === 'running') throw new DriverError('VmRunning', `VM ${vmid} on ${node} is running; it is stopped before it is deleted`);
    return { task: await this.client.node(node).qemu(vmid).destroy({ signal }) };
  }

  async findIso(volume: string, ref: VmRef, signal: AbortSignal): Promise<IsoVolumeInfo | undefined> {
    const storage = /^([a-z][a-z0-9\-_.]*[a-z0-9]):iso\/[^/]+$/i.exec(volume)?.[1];
    if (!storage) throw new DriverError('InvalidVolume', `${volume} is not a Proxmox ISO volume ID (<storage>:iso/<file>.iso).`);
    const node = ref.node ?? await this.downloadNode(signal);
    const isos = await this.isosOn(node, storage, signal);
    return isos.has(volume) ? { volume, sizeBytes: isos.get(volume) } : undefined;
  }

  /** Image listings of a storage, shared for a moment like power (many VMs' disks in one resync). */
  private imagesOn(node: string, storage: string, signal: AbortSignal): Promise<Map<string, ImageSizes>> {
    const key = `${node}/${storage}`;
    return this.imageListings.get(key, () => this.client.node(node).storage(storage).content({ content: 'images' }, { signal }).then((list) => new Map(list.map((c) => [c.volid, { size: c.size, used: c.used }]))));
  }

  /** ISO listings, shared for a moment like power (many attachments checked in one resync). */
  private isosOn(node: string, storage: string, signal: AbortSignal): Promise<Map<string, number | undefined>> {
    const key = `${node}/${storage}`;
    return this.isoListings.get(key, () => this.client.node(node).storage(storage).content({ content: 'iso' }, { signal }).then((list) => new Map(list.map((c) => [c.volid, c.size]))));
  }

  async downloadIso(request: IsoDownloadRequest, signal: AbortSignal): Promise<{ volume: string; task?: string }> {
    const node = request.node ?? await this.downloadNode(signal);
    // PVE normalises the name the same way (normalize_content_filename); knowing it up front
    // lets status name the volume before the task ends.
    const filename = request.filename.replace(/^.*\//, '').replace(/[^a-zA-Z0-9_.-]/g, '_');
    this.isoListings.clear();
    const task = await this.client.node(node).storage(this.options.isoStorage).downloadUrl({
      content: 'iso', filename, url: request.url, checksum: request.checksum.value, 'checksum-algorithm': request.checksum.algorithm,
    }, { signal });
    return { volume: `${this.options.isoStorage}:iso/${filename}`, task };
  }

  private async downloadNode(signal: AbortSignal): Promise<string> {
    if (this.options.defaultNode) return this.options.defaultNode;
    const online = (await this.client.nodes({ signal })).filter((n) => n.status === 'online').map((n) => n.node).sort();
    if (!online[0]) throw new DriverError('NoNodeOnline', 'No Proxmox node is online to download on.');
    return online[0];
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** The config with pending values applied, and the keys PVE holds as pending. */
export function configFromPending(items: PendingItem[]): { config: PveVmConfig; pending: string[] } {
  const config: PveVmConfig = {};
  const pending: string[] = [];
  for (const item of items) {
    if (item.key === 'digest') {
      config.digest = item.value;
      continue;
    }
    if (item.delete) {
      pending.push(item.key);
      continue;
    }
    if (item.pending !== undefined) {
      pending.push(item.key);
      config[item.key] = item.pending;
    } else if (item.value !== undefined) {
      config[item.key] = item.value;
    }
  }
  return { config, pending: pending.sort() };
}

export function vmOf(ref: VmRef): { node: string; vmid: number } {
  if (!ref.node || ref.vmid === undefined) throw new DriverError('InvalidVmRef', 'A Proxmox VM is named by node and vmid (spec.proxmox.node and spec.proxmox.vmid).');
  return { node: ref.node, vmid: ref.vmid };
}

/** Credentials from the Secret: an API token (tokenId, tokenSecret) or a login (username, password). */
export function proxmoxCredentials(hypervisor: Hypervisor, secret: SecretData | undefined): PveCredentials {
  const data = secret?.data ?? {};
  const where = secret ? `Secret ${secret.namespace}/${secret.name}` : 'the credentials Secret';
  if (hypervisor.spec.proxmox?.authMethod === 'ticket') {
    if (!data.username || !data.password) throw new DriverError('MissingKeys', `${where} needs keys username and password for ticket login.`);
    return { kind: 'ticket', username: data.username, password: data.password };
  }
  if (!data.tokenId || !data.tokenSecret) throw new DriverError('MissingKeys', `${where} needs keys tokenId and tokenSecret for API token auth.`);
  return { kind: 'token', tokenId: data.tokenId, secret: data.tokenSecret };
}

export const proxmoxDriverFactory: DriverFactory = (hypervisor, secret) => {
  const proxmox = hypervisor.spec.proxmox;
  if (!proxmox) throw new DriverError('InvalidSpec', 'spec.proxmox is required for a Proxmox hypervisor.');
  const tls = hypervisor.spec.tls;
  const caKey = tls?.caSecretKey;
  const ca = caKey ? secret?.data[caKey] : undefined;
  if (caKey && !ca) throw new DriverError('MissingKeys', `The credentials Secret lacks key ${caKey} (spec.tls.caSecretKey).`);
  const client = createProxmoxClient({
    endpoint: proxmox.endpoint,
    credentials: proxmoxCredentials(hypervisor, secret),
    tls: { ca, fingerprintSHA256: tls?.fingerprintSHA256, insecureSkipVerify: tls?.insecureSkipVerify ?? false },
    requestTimeoutMs: (hypervisor.spec.requestTimeoutSeconds ?? 30) * 1000,
    maxConcurrentTasksPerNode: proxmox.maxConcurrentTasksPerNode,
  });
  return new ProxmoxDriver(client, { isoStorage: proxmox.isoStorage, defaultNode: proxmox.defaultNode, snippetStorage: proxmox.snippetStorage });
};

/** The storage part of a volume ID (`local-lvm:vm-100-disk-0` → `local-lvm`). */
function storageOf(volume: string): string {
  return volume.split(':')[0]!;
}
