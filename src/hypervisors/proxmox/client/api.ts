// The PVE API tree as objects, like the URL: client.node('pve1').qemu(100).config.get().
// Every mutating call on a VM runs after the previous one on that VM finished (per-VM
// serialisation), and every call that starts a task takes a slot of its node's task cap, held
// until the task is seen stopped (see limits.ts).
import { PveProtocolError } from './errors.js';
import { KeyedSerializer, NodeTaskLimiter } from './limits.js';
import { apiPath, type CallOptions, type Params, type PveTransport } from './transport.js';
import type {
  AgentExecReply, AgentExecStatus, AgentInterface, DownloadUrlParams, NodeItem, PendingItem, SnapshotItem, StorageContentItem, StorageItem, TaskLogLine, TaskStatusReply,
  VersionReply, VmConfig, VmListItem, VmStatus,
} from './types.js';
import { isUpid, parseUpid } from './upid.js';

export interface ProxmoxClientOptions {
  /** Mutating tasks from this client running at once on one node. */
  maxConcurrentTasksPerNode: number;
  /** How long a started task keeps its node slot when nobody polls it to completion. */
  taskLeaseMs?: number;
}

export class ProxmoxClient {
  readonly serializer = new KeyedSerializer();
  readonly limiter: NodeTaskLimiter;

  constructor(readonly transport: PveTransport, options: ProxmoxClientOptions) {
    this.limiter = new NodeTaskLimiter(options.maxConcurrentTasksPerNode, options.taskLeaseMs ?? 120_000);
  }

  version(opts?: CallOptions): Promise<VersionReply> {
    return this.transport.get('/version', {}, opts);
  }

  nodes(opts?: CallOptions): Promise<NodeItem[]> {
    return this.transport.get('/nodes', {}, opts);
  }

  node(name: string): NodeApi {
    return new NodeApi(this, name);
  }

  /** Task status by UPID alone (the UPID names its node). A stopped task frees its node slot. */
  async taskStatus(upid: string, opts?: CallOptions): Promise<TaskStatusReply> {
    const parsed = parseUpid(upid);
    if (!parsed) throw new PveProtocolError(`'${upid}' is not a Proxmox task id (UPID)`);
    const status = await this.transport.get<TaskStatusReply>(apiPath`/nodes/${parsed.node}/tasks/${upid}/status`, {}, opts);
    if (status.status === 'stopped') this.limiter.finish(upid);
    return status;
  }

  async taskLog(upid: string, opts?: CallOptions & { start?: number; limit?: number }): Promise<TaskLogLine[]> {
    const parsed = parseUpid(upid);
    if (!parsed) throw new PveProtocolError(`'${upid}' is not a Proxmox task id (UPID)`);
    return this.transport.get(apiPath`/nodes/${parsed.node}/tasks/${upid}/log`, { start: opts?.start, limit: opts?.limit }, opts);
  }

  async close(): Promise<void> {
    this.limiter.close();
    await this.transport.close();
  }

  /**
   * Runs a call that starts a task: after earlier changes to the same VM, within the node's task
   * cap. The slot stays taken until taskStatus sees the task stopped (or the lease runs out).
   */
  async startTask(node: string, serialKey: string | undefined, opts: CallOptions | undefined, call: () => Promise<unknown>): Promise<string> {
    const run = async () => {
      const release = await this.limiter.acquire(node, opts?.signal);
      let upid: unknown;
      try {
        upid = await call();
      } catch (err) {
        release();
        throw err;
      }
      if (!isUpid(upid)) {
        release();
        throw new PveProtocolError(`expected a task id (UPID) from node ${node}, got ${JSON.stringify(upid)?.slice(0, 80)}`);
      }
      this.limiter.holdForTask(node, upid, release);
      return upid;
    };
    return serialKey ? this.serializer.run(serialKey, run) : run();
  }
}

export class NodeApi {
  constructor(private readonly client: ProxmoxClient, readonly name: string) {}

  qemu(vmid: number): QemuApi {
    return new QemuApi(this.client, this.name, vmid);
  }

  vms(opts?: CallOptions): Promise<VmListItem[]> {
    return this.client.transport.get(apiPath`/nodes/${this.name}/qemu`, {}, opts);
  }

  /** POST /nodes/{node}/qemu: PVE writes the config locked (lock: create) and allocates the drives in a qmcreate task. */
  createVm(params: Params & { vmid: string }, opts?: CallOptions): Promise<string> {
    return this.client.startTask(this.name, vmKey(Number(params.vmid)), opts, () =>
      this.client.transport.post(apiPath`/nodes/${this.name}/qemu`, params, opts));
  }

  storages(filter: { content?: string; enabled?: boolean } = {}, opts?: CallOptions): Promise<StorageItem[]> {
    return this.client.transport.get(apiPath`/nodes/${this.name}/storage`, filter, opts);
  }

  storage(storage: string): StorageApi {
    return new StorageApi(this.client, this.name, storage);
  }
}

export class StorageApi {
  constructor(private readonly client: ProxmoxClient, readonly node: string, readonly storage: string) {}

  content(filter: { content?: string; vmid?: number } = {}, opts?: CallOptions): Promise<StorageContentItem[]> {
    return this.client.transport.get(apiPath`/nodes/${this.node}/storage/${this.storage}/content`, filter, opts);
  }

  /** Starts a `download` task; the file appears as <storage>:iso/<filename> when it ends OK. */
  downloadUrl(params: DownloadUrlParams, opts?: CallOptions): Promise<string> {
    return this.client.startTask(this.node, undefined, opts, () =>
      this.client.transport.post(apiPath`/nodes/${this.node}/storage/${this.storage}/download-url`, { ...params }, opts));
  }
}

export class QemuApi {
  readonly config: QemuConfigApi;
  readonly status: QemuStatusApi;
  readonly agent: QemuAgentApi;

  constructor(private readonly client: ProxmoxClient, readonly node: string, readonly vmid: number) {
    this.config = new QemuConfigApi(client, node, vmid);
    this.status = new QemuStatusApi(client, node, vmid);
    this.agent = new QemuAgentApi(client, node, vmid);
  }

  pending(opts?: CallOptions): Promise<PendingItem[]> {
    return this.client.transport.get(apiPath`/nodes/${this.node}/qemu/${this.vmid}/pending`, {}, opts);
  }

  /** POST …/clone: a qmclone task that copies this VM (a template) to `newid`, which holds lock: clone meanwhile. */
  clone(params: Params & { newid: string }, opts?: CallOptions): Promise<string> {
    return this.client.startTask(this.node, vmKey(Number(params.newid)), opts, () =>
      this.client.transport.post(apiPath`/nodes/${this.node}/qemu/${this.vmid}/clone`, params, opts));
  }

  /** The VM's snapshots, with PVE's "current" entry (the running state) among them. */
  snapshots(opts?: CallOptions): Promise<SnapshotItem[]> {
    return this.client.transport.get(apiPath`/nodes/${this.node}/qemu/${this.vmid}/snapshot`, {}, opts);
  }

  /** Starts a `qmsnapshot` task; PVE refuses a name already used inside the task. */
  snapshot(params: { snapname: string; description?: string; vmstate?: boolean }, opts?: CallOptions): Promise<string> {
    return this.client.startTask(this.node, vmKey(this.vmid), opts, () =>
      this.client.transport.post(apiPath`/nodes/${this.node}/qemu/${this.vmid}/snapshot`, { ...params }, opts));
  }

  /** DELETE the VM: a `qmdestroy` task that frees the volumes the VM owns. PVE refuses a running VM. */
  destroy(opts?: CallOptions): Promise<string> {
    return this.client.startTask(this.node, vmKey(this.vmid), opts, () =>
      this.client.transport.delete(apiPath`/nodes/${this.node}/qemu/${this.vmid}`, {}, opts));
  }

  /** Regenerates the cloud-init image (PUT, synchronous; swaps the medium live on a running VM). */
  regenerateCloudInit(opts?: CallOptions): Promise<null> {
    return this.client.serializer.run(vmKey(this.vmid), () =>
      this.client.transport.put(apiPath`/nodes/${this.node}/qemu/${this.vmid}/cloudinit`, {}, opts));
  }
}

export interface ConfigChange {
  /** Keys to set, in PVE's packed-string form. */
  set?: Record<string, string | number>;
  /** Keys to remove. */
  delete?: string[];
  /** Keys whose pending change to drop. */
  revert?: string[];
  /** The digest the change was planned against: PVE refuses it if the config moved on. */
  digest?: string;
}

function changeParams(change: ConfigChange): Params {
  const params: Params = { ...(change.set ?? {}) };
  if (change.delete?.length) params.delete = change.delete.join(',');
  if (change.revert?.length) params.revert = change.revert.join(',');
  if (change.digest) params.digest = change.digest;
  return params;
}

export class QemuConfigApi {
  constructor(private readonly client: ProxmoxClient, readonly node: string, readonly vmid: number) {}

  /** The config with pending values applied (PVE's default), or only the active values with current. */
  get(opts?: CallOptions & { current?: boolean }): Promise<VmConfig> {
    return this.client.transport.get(apiPath`/nodes/${this.node}/qemu/${this.vmid}/config`, { current: opts?.current }, opts);
  }

  /** POST: PVE checks digest and lock at once, then runs the change as a qmconfig task. */
  update(change: ConfigChange, opts?: CallOptions): Promise<string> {
    return this.client.startTask(this.node, vmKey(this.vmid), opts, () =>
      this.client.transport.post(apiPath`/nodes/${this.node}/qemu/${this.vmid}/config`, changeParams(change), opts));
  }

  /** PUT: the whole change runs inside the request; hotplug problems come back as a 400. */
  async set(change: ConfigChange, opts?: CallOptions): Promise<void> {
    await this.client.serializer.run(vmKey(this.vmid), () =>
      this.client.transport.put(apiPath`/nodes/${this.node}/qemu/${this.vmid}/config`, changeParams(change), opts));
  }
}

export class QemuStatusApi {
  constructor(private readonly client: ProxmoxClient, readonly node: string, readonly vmid: number) {}

  current(opts?: CallOptions): Promise<VmStatus> {
    return this.client.transport.get(apiPath`/nodes/${this.node}/qemu/${this.vmid}/status/current`, {}, opts);
  }

  start(opts?: CallOptions): Promise<string> { return this.action('start', {}, opts); }
  stop(opts?: CallOptions): Promise<string> { return this.action('stop', {}, opts); }
  shutdown(opts?: CallOptions & { timeoutSeconds?: number; forceStop?: boolean }): Promise<string> {
    return this.action('shutdown', { timeout: opts?.timeoutSeconds, forceStop: opts?.forceStop }, opts);
  }
  reboot(opts?: CallOptions): Promise<string> { return this.action('reboot', {}, opts); }

  private action(action: string, params: Params, opts?: CallOptions): Promise<string> {
    return this.client.startTask(this.node, vmKey(this.vmid), opts, () =>
      this.client.transport.post(`${apiPath`/nodes/${this.node}/qemu/${this.vmid}/status`}/${action}`, params, opts));
  }
}

/** The guest agent through PVE (synchronous calls; PVE pings the agent before each). */
export class QemuAgentApi {
  constructor(private readonly client: ProxmoxClient, readonly node: string, readonly vmid: number) {}

  ping(opts?: CallOptions): Promise<{ result: unknown }> {
    return this.client.transport.post(`${this.base()}/ping`, {}, opts);
  }

  /** Starts a program; PVE answers {pid} without the result wrapper. */
  exec(command: string[], inputData: string | undefined, opts?: CallOptions): Promise<AgentExecReply> {
    return this.client.transport.post(`${this.base()}/exec`, { command, 'input-data': inputData }, opts);
  }

  execStatus(pid: number, opts?: CallOptions): Promise<AgentExecStatus> {
    return this.client.transport.get(`${this.base()}/exec-status`, { pid }, opts);
  }

  /** content is sent already base64-encoded (encode=0), so any bytes survive the form encoding. */
  fileWrite(file: string, base64: string, opts?: CallOptions): Promise<null> {
    return this.client.transport.post(`${this.base()}/file-write`, { file, content: base64, encode: false }, opts);
  }

  networkGetInterfaces(opts?: CallOptions): Promise<{ result: AgentInterface[] }> {
    return this.client.transport.get(`${this.base()}/network-get-interfaces`, {}, opts);
  }

  private base(): string {
    return apiPath`/nodes/${this.node}/qemu/${this.vmid}/agent`;
  }
}

// VM ids are unique across a PVE cluster, so the id alone keys the per-VM queue.
function vmKey(vmid: number): string {
  return `vm/${vmid}`;
}
