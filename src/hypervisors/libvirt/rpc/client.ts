// LibvirtClient: the procedures bootplane needs, over a connection it opens on first use and
// re-opens with exponential backoff after the daemon or the network drops it. Event callbacks
// are registered again on every new connection, so subscribers see events across reconnects.
import { LibvirtConnectionError, LibvirtError } from './errors.js';
import { RpcConnection, type CallTarget } from './connection.js';
import { dialerForUri, parseLibvirtUri, type Dialer, type DialerCredentials, type ParsedUri } from './dialer.js';
import type { Packet } from './packet.js';
import {
  AuthType, BlockResizeFlags, DeviceModifyFlags, DomainEventId, DomainState, type DomainStateName, LifecycleEvent,
  type LifecycleEventName, QEMU_PROGRAM, QEMU_PROTOCOL_VERSION, QemuProc, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, RemoteProc,
  SNAPSHOT_LIST_MAX, VolResizeFlags,
} from './protocol.js';
import {
  readBlockInfo, readDomain, readLifecycleMessage, readPool, readPoolInfo, readVolume, readVolumeInfo, uuidToBytes,
  writeDomain, writePool, writeVolume, type BlockInfo, type DomainRef, type PoolInfo, type PoolRef, type VolumeInfo,
  type VolumeRef,
} from './types.js';
import { XdrReader, XdrWriter } from './xdr.js';

export interface LibvirtClientOptions {
  uri: string;
  credentials?: DialerCredentials;
  insecureSkipVerify?: boolean;
  /** Overrides the transport the URI implies (tests, unusual sockets). */
  dialer?: Dialer;
  maxInFlightCalls?: number;
  keepaliveIntervalMs?: number;
  keepaliveCount?: number;
  /** Per-call timeout unless the caller's signal is shorter. */
  callTimeoutMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

export interface LifecycleEventInfo {
  domain: DomainRef;
  event: LifecycleEventName | `unknown(${number})`;
  detail: number;
}

type Encoder = (w: XdrWriter) => void;

const remote = (name: keyof typeof RemoteProc): CallTarget => ({ program: REMOTE_PROGRAM, version: REMOTE_PROTOCOL_VERSION, procedure: RemoteProc[name], name });

function versionString(v: number): string {
  return `${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000}`;
}

export class LibvirtClient {
  readonly uri: ParsedUri;
  private readonly dialer: Dialer;
  private connection: RpcConnection | undefined;
  private connecting: Promise<RpcConnection> | undefined;
  private failures = 0;
  private closedByUser = false;
  private readonly lifecycleListeners = new Set<(e: LifecycleEventInfo) => void>();
  private lifecycleCallbackId: number | undefined;
  private readonly opts: Required<Omit<LibvirtClientOptions, 'dialer' | 'credentials' | 'insecureSkipVerify'>>;

  constructor(options: LibvirtClientOptions) {
    this.uri = parseLibvirtUri(options.uri);
    this.dialer = options.dialer ?? dialerForUri(this.uri, options.credentials, options.insecureSkipVerify);
    this.opts = {
      uri: options.uri,
      maxInFlightCalls: options.maxInFlightCalls ?? 5,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 5000,
      keepaliveCount: options.keepaliveCount ?? 5,
      callTimeoutMs: options.callTimeoutMs ?? 30_000,
      reconnectBaseMs: options.reconnectBaseMs ?? 200,
      reconnectMaxMs: options.reconnectMaxMs ?? 30_000,
    };
  }

  // ---- connection management ----

  /** The open connection, dialing (after the backoff the last failures earned) when there is none. */
  private async conn(signal?: AbortSignal): Promise<RpcConnection> {
    if (this.closedByUser) throw new LibvirtConnectionError('the libvirt client was closed');
    if (this.connection && !this.connection.closed) return this.connection;
    this.connecting ??= this.open(signal).finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  private async open(signal?: AbortSignal): Promise<RpcConnection> {
    if (this.failures > 0) {
      const delay = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectBaseMs * 2 ** (this.failures - 1));
      await new Promise((r) => setTimeout(r, delay * (0.8 + Math.random() * 0.4)));
    }
    try {
      const stream = await this.dialer.dial(signal);
      const connection = new RpcConnection(stream, {
        maxInFlight: this.opts.maxInFlightCalls,
        keepaliveIntervalMs: this.opts.keepaliveIntervalMs,
        keepaliveCount: this.opts.keepaliveCount,
        onMessage: (p) => this.onMessage(p),
        onClose: () => this.onConnectionClosed(connection),
      });
      const auth = await this.rawCall(connection, remote('AUTH_LIST'), undefined, signal);
      const types = new XdrReader(auth).array((r) => r.int(), 20);
      if (types.length > 0 && !types.includes(AuthType.NONE)) {
        connection.close();
        throw new LibvirtError('AuthNotSupported', `libvirtd at ${this.opts.uri} requires SASL or polkit authentication (types ${types.join(',')}), which bootplane does not speak: use a TLS client certificate or the unix socket as a permitted user`);
      }
      await this.rawCall(connection, remote('CONNECT_OPEN'), (w) => w.optional(this.uri.remoteName, (x, n) => x.string(n)).uint(0), signal);
      this.connection = connection;
      this.failures = 0;
      this.lifecycleCallbackId = undefined;
      if (this.lifecycleListeners.size > 0) await this.registerLifecycle(connection, signal);
      return connection;
    } catch (err) {
      this.failures++;
      throw err;
    }
  }

  private onConnectionClosed(connection: RpcConnection): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.failures = Math.max(this.failures, 1);
    // Subscribers expect events to keep coming: reconnect in the background.
    if (!this.closedByUser && this.lifecycleListeners.size > 0) this.reconnectInBackground();
  }

  private reconnectInBackground(): void {
    this.conn().catch(() => {
      if (!this.closedByUser && this.lifecycleListeners.size > 0) setTimeout(() => this.reconnectInBackground(), 0).unref();
    });
  }

  async close(): Promise<void> {
    this.closedByUser = true;
    const c = this.connection;
    this.connection = undefined;
    if (c && !c.closed) {
      try {
        await this.rawCall(c, remote('CONNECT_CLOSE'), undefined, AbortSignal.timeout(2000));
      } catch { /* closing anyway */ }
      c.close();
    }
  }

  get connected(): boolean { return this.connection !== undefined && !this.connection.closed; }

  // ---- calls ----

  private rawCall(connection: RpcConnection, target: CallTarget, encode: Encoder | undefined, signal?: AbortSignal): Promise<Buffer> {
    const w = new XdrWriter();
    encode?.(w);
    const timeout = AbortSignal.timeout(this.opts.callTimeoutMs);
    return connection.call(target, w.bytes(), signal ? AbortSignal.any([signal, timeout]) : timeout);
  }

  private async call<T>(target: CallTarget, encode: Encoder | undefined, decode: ((r: XdrReader) => T) | undefined, signal?: AbortSignal): Promise<T> {
    const payload = await this.rawCall(await this.conn(signal), target, encode, signal);
    if (!decode) return undefined as T;
    const r = new XdrReader(payload);
    const value = decode(r);
    r.end();
    return value;
  }

  // ---- connection-level ----

  async hypervisorType(signal?: AbortSignal): Promise<string> {
    return this.call(remote('CONNECT_GET_TYPE'), undefined, (r) => r.string(), signal);
  }

  /** The hypervisor's version (e.g. QEMU 7.2.22) as major.minor.release. */
  async hypervisorVersion(signal?: AbortSignal): Promise<string> {
    return versionString(await this.call(remote('CONNECT_GET_VERSION'), undefined, (r) => r.uhyperNumber(), signal));
  }

  async libvirtVersion(signal?: AbortSignal): Promise<string> {
    return versionString(await this.call(remote('CONNECT_GET_LIB_VERSION'), undefined, (r) => r.uhyperNumber(), signal));
  }

  async hostname(signal?: AbortSignal): Promise<string> {
    return this.call(remote('CONNECT_GET_HOSTNAME'), undefined, (r) => r.string(), signal);
  }

  async capabilities(signal?: AbortSignal): Promise<string> {
    return this.call(remote('CONNECT_GET_CAPABILITIES'), undefined, (r) => r.string(), signal);
  }

  // ---- domains ----

  async listDomains(flags = 0, signal?: AbortSignal): Promise<DomainRef[]> {
    return this.call(remote('CONNECT_LIST_ALL_DOMAINS'), (w) => w.int(1).uint(flags), (r) => {
      const domains = r.array(readDomain, 16384);
      r.uint();
      return domains;
    }, signal);
  }

  async lookupDomainByName(name: string, signal?: AbortSignal): Promise<DomainRef> {
    return this.call(remote('DOMAIN_LOOKUP_BY_NAME'), (w) => w.string(name), readDomain, signal);
  }

  async lookupDomainByUuid(uuid: string, signal?: AbortSignal): Promise<DomainRef> {
    return this.call(remote('DOMAIN_LOOKUP_BY_UUID'), (w) => w.fixedOpaque(uuidToBytes(uuid), 16), readDomain, signal);
  }

  async defineDomain(xml: string, flags = 0, signal?: AbortSignal): Promise<DomainRef> {
    return this.call(remote('DOMAIN_DEFINE_XML_FLAGS'), (w) => w.string(xml).uint(flags), readDomain, signal);
  }

  async undefineDomain(dom: DomainRef, flags = 0, signal?: AbortSignal): Promise<void> {
    return this.call(remote('DOMAIN_UNDEFINE_FLAGS'), (w) => { writeDomain(w, dom); w.uint(flags); }, undefined, signal);
  }

  async domainXml(dom: DomainRef, flags = 0, signal?: AbortSignal): Promise<string> {
    return this.call(remote('DOMAIN_GET_XML_DESC'), (w) => { writeDomain(w, dom); w.uint(flags); }, (r) => r.string(), signal);
  }

  async domainState(dom: DomainRef, signal?: AbortSignal): Promise<{ state: DomainStateName; reason: number }> {
    return this.call(remote('DOMAIN_GET_STATE'), (w) => { writeDomain(w, dom); w.uint(0); }, (r) => {
      const state = r.int();
      return { state: DomainState[state as keyof typeof DomainState] ?? 'nostate', reason: r.int() };
    }, signal);
  }

  async createDomain(dom: DomainRef, flags = 0, signal?: AbortSignal): Promise<DomainRef> {
    return this.call(remote('DOMAIN_CREATE_WITH_FLAGS'), (w) => { writeDomain(w, dom); w.uint(flags); }, readDomain, signal);
  }

  async destroyDomain(dom: DomainRef, flags = 0, signal?: AbortSignal): Promise<void> {
    return this.call(remote('DOMAIN_DESTROY_FLAGS'), (w) => { writeDomain(w, dom); w.uint(flags); }, undefined, signal);
  }

  async shutdownDomain(dom: DomainRef, flags = 0, signal?: AbortSignal): Promise<void> {
    return this.call(remote('DOMAIN_SHUTDOWN_FLAGS'), (w) => { writeDomain(w, dom); w.uint(flags); }, undefined, signal);
  }

  async rebootDomain(dom: DomainRef, flags = 0, signal?: AbortSignal): Promise<void> {
    return this.call(remote('DOMAIN_REBOOT'), (w) => { writeDomain(w, dom); w.uint(flags); }, undefined, signal);
  }

  /** Changes a device in place (media swap of a CD-ROM, boot order): live, persistent config, or both. */
  async updateDevice(dom: DomainRef, xml: string, flags: number = DeviceModifyFlags.CURRENT, signal?: AbortSignal): Promise<void> {
    return this.call(remote('DOMAIN_UPDATE_DEVICE_FLAGS'), (w) => { writeDomain(w, dom); w.string(xml).uint(flags); }, undefined, signal);
  }

  async attachDevice(dom: DomainRef, xml: string, flags: number = DeviceModifyFlags.CURRENT, signal?: AbortSignal): Promise<void> {
    return this.call(remote('DOMAIN_ATTACH_DEVICE_FLAGS'), (w) => { writeDomain(w, dom); w.string(xml).uint(flags); }, undefined, signal);
  }

  async detachDevice(dom: DomainRef, xml: string, flags: number = DeviceModifyFlags.CURRENT, signal?: AbortSignal): Promise<void> {
    return this.call(remote('DOMAIN_DETACH_DEVICE_FLAGS'), (w) => { writeDomain(w, dom); w.string(xml).uint(flags); }, undefined, signal);
  }

  async blockInfo(dom: DomainRef, disk: string, signal?: AbortSignal): Promise<BlockInfo> {
    return this.call(remote('DOMAIN_GET_BLOCK_INFO'), (w) => { writeDomain(w, dom); w.string(disk).uint(0); }, readBlockInfo, signal);
  }

  /** Grows a disk of a running domain (sizeBytes is the new virtual size). */
  async blockResize(dom: DomainRef, disk: string, sizeBytes: number, signal?: AbortSignal): Promise<void> {
    return this.call(remote('DOMAIN_BLOCK_RESIZE'), (w) => { writeDomain(w, dom); w.string(disk).uhyper(sizeBytes).uint(BlockResizeFlags.BYTES); }, undefined, signal);
  }

  /** Creates a snapshot from its XML (<domainsnapshot>); returns the snapshot's name. */
  async snapshotCreateXml(dom: DomainRef, xml: string, flags = 0, signal?: AbortSignal): Promise<string> {
    return this.call(remote('DOMAIN_SNAPSHOT_CREATE_XML'), (w) => { writeDomain(w, dom); w.string(xml).uint(flags); }, (r) => {
      const name = r.string(); // remote_nonnull_domain_snapshot: name, then its domain
      readDomain(r);
      return name;
    }, signal);
  }

  async snapshotNames(dom: DomainRef, signal?: AbortSignal): Promise<string[]> {
    return this.call(remote('DOMAIN_SNAPSHOT_LIST_NAMES'), (w) => { writeDomain(w, dom); w.int(SNAPSHOT_LIST_MAX).uint(0); }, (r) => r.array((x) => x.string(), SNAPSHOT_LIST_MAX), signal);
  }

  /** One guest-agent command (JSON in, JSON out) through libvirt's qemu program. */
  async agentCommand(dom: DomainRef, command: string, timeoutSeconds = 5, signal?: AbortSignal): Promise<string | undefined> {
    const target: CallTarget = { program: QEMU_PROGRAM, version: QEMU_PROTOCOL_VERSION, procedure: QemuProc.DOMAIN_AGENT_COMMAND, name: 'DOMAIN_AGENT_COMMAND' };
    return this.call(target, (w) => { writeDomain(w, dom); w.string(command).int(timeoutSeconds).uint(0); }, (r) => r.optional((x) => x.string()), signal);
  }

  // ---- storage ----

  async listPools(flags = 0, signal?: AbortSignal): Promise<PoolRef[]> {
    return this.call(remote('CONNECT_LIST_ALL_STORAGE_POOLS'), (w) => w.int(1).uint(flags), (r) => {
      const pools = r.array(readPool, 4096);
      r.uint();
      return pools;
    }, signal);
  }

  async lookupPool(name: string, signal?: AbortSignal): Promise<PoolRef> {
    return this.call(remote('STORAGE_POOL_LOOKUP_BY_NAME'), (w) => w.string(name), readPool, signal);
  }

  async poolInfo(pool: PoolRef, signal?: AbortSignal): Promise<PoolInfo> {
    return this.call(remote('STORAGE_POOL_GET_INFO'), (w) => writePool(w, pool), readPoolInfo, signal);
  }

  async poolXml(pool: PoolRef, signal?: AbortSignal): Promise<string> {
    return this.call(remote('STORAGE_POOL_GET_XML_DESC'), (w) => { writePool(w, pool); w.uint(0); }, (r) => r.string(), signal);
  }

  async refreshPool(pool: PoolRef, signal?: AbortSignal): Promise<void> {
    return this.call(remote('STORAGE_POOL_REFRESH'), (w) => { writePool(w, pool); w.uint(0); }, undefined, signal);
  }

  async listVolumes(pool: PoolRef, signal?: AbortSignal): Promise<VolumeRef[]> {
    return this.call(remote('STORAGE_POOL_LIST_ALL_VOLUMES'), (w) => { writePool(w, pool); w.int(1).uint(0); }, (r) => {
      const vols = r.array(readVolume, 16384);
      r.uint();
      return vols;
    }, signal);
  }

  async lookupVolume(pool: PoolRef, name: string, signal?: AbortSignal): Promise<VolumeRef> {
    return this.call(remote('STORAGE_VOL_LOOKUP_BY_NAME'), (w) => { writePool(w, pool); w.string(name); }, readVolume, signal);
  }

  async lookupVolumeByPath(path: string, signal?: AbortSignal): Promise<VolumeRef> {
    return this.call(remote('STORAGE_VOL_LOOKUP_BY_PATH'), (w) => w.string(path), readVolume, signal);
  }

  async createVolume(pool: PoolRef, xml: string, flags = 0, signal?: AbortSignal): Promise<VolumeRef> {
    return this.call(remote('STORAGE_VOL_CREATE_XML'), (w) => { writePool(w, pool); w.string(xml).uint(flags); }, readVolume, signal);
  }

  async deleteVolume(vol: VolumeRef, signal?: AbortSignal): Promise<void> {
    return this.call(remote('STORAGE_VOL_DELETE'), (w) => { writeVolume(w, vol); w.uint(0); }, undefined, signal);
  }

  async volumeInfo(vol: VolumeRef, signal?: AbortSignal): Promise<VolumeInfo> {
    return this.call(remote('STORAGE_VOL_GET_INFO'), (w) => writeVolume(w, vol), readVolumeInfo, signal);
  }

  async volumePath(vol: VolumeRef, signal?: AbortSignal): Promise<string> {
    return this.call(remote('STORAGE_VOL_GET_PATH'), (w) => writeVolume(w, vol), (r) => r.string(), signal);
  }

  async volumeXml(vol: VolumeRef, signal?: AbortSignal): Promise<string> {
    return this.call(remote('STORAGE_VOL_GET_XML_DESC'), (w) => { writeVolume(w, vol); w.uint(0); }, (r) => r.string(), signal);
  }

  /** Sets a volume's virtual size; shrinking needs `allowShrink` (libvirt refuses it otherwise too). */
  async resizeVolume(vol: VolumeRef, capacityBytes: number, opts: { allowShrink?: boolean } = {}, signal?: AbortSignal): Promise<void> {
    const flags = opts.allowShrink ? VolResizeFlags.SHRINK : 0;
    return this.call(remote('STORAGE_VOL_RESIZE'), (w) => { writeVolume(w, vol); w.uhyper(capacityBytes).uint(flags); }, undefined, signal);
  }

  /** Writes `data` into the volume from `offset` through an upload stream. */
  async uploadVolume(vol: VolumeRef, data: Buffer | AsyncIterable<Buffer>, opts: { offset?: number; length?: number } = {}, signal?: AbortSignal): Promise<void> {
    const length = opts.length ?? (Buffer.isBuffer(data) ? data.length : 0);
    const w = new XdrWriter();
    writeVolume(w, vol);
    w.uhyper(opts.offset ?? 0).uhyper(length).uint(0);
    const connection = await this.conn(signal);
    await connection.upload(remote('STORAGE_VOL_UPLOAD'), w.bytes(), data, signal);
  }

  // ---- events ----

  /** Subscribes to lifecycle events of every domain; returns the unsubscribe function. */
  async onLifecycle(listener: (e: LifecycleEventInfo) => void, signal?: AbortSignal): Promise<() => Promise<void>> {
    this.lifecycleListeners.add(listener);
    const connection = await this.conn(signal);
    if (this.lifecycleCallbackId === undefined) await this.registerLifecycle(connection, signal);
    return async () => {
      this.lifecycleListeners.delete(listener);
      if (this.lifecycleListeners.size > 0 || this.lifecycleCallbackId === undefined || !this.connected) return;
      const id = this.lifecycleCallbackId;
      this.lifecycleCallbackId = undefined;
      await this.call(remote('CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY'), (w) => w.int(id), undefined);
    };
  }

  private async registerLifecycle(connection: RpcConnection, signal?: AbortSignal): Promise<void> {
    const payload = await this.rawCall(connection, remote('CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY'), (w) => w.int(DomainEventId.LIFECYCLE).optional(undefined, () => {}), signal);
    this.lifecycleCallbackId = new XdrReader(payload).int();
  }

  private onMessage(packet: Packet): void {
    const { header } = packet;
    if (header.program !== REMOTE_PROGRAM || header.procedure !== RemoteProc.DOMAIN_EVENT_CALLBACK_LIFECYCLE) return;
    let msg;
    try {
      msg = readLifecycleMessage(new XdrReader(packet.payload));
    } catch {
      return; // a malformed event is dropped; calls are unaffected
    }
    if (msg.callbackId !== this.lifecycleCallbackId) return;
    const event = LifecycleEvent[msg.event as keyof typeof LifecycleEvent] ?? (`unknown(${msg.event})` as const);
    for (const l of this.lifecycleListeners) l({ domain: msg.domain, event, detail: msg.detail });
  }
}
