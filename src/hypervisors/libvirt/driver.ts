// The libvirt driver: HypervisorDriver over our RPC client. The persistent (inactive) domain
// XML is the config a plan is made against and written to; a running domain additionally gets
// CD-ROM media changes live where libvirt allows it, and everything else is reported pending
// until the next restart. libvirt has no long tasks, so every change completes in the call.
import { createHash } from 'node:crypto';
import type { Hypervisor } from '../../api/v1alpha1/hypervisor.js';
import { cloudInitHash, type CloudInitContent } from '../../planning/cloud-init.js';
import type { ObservedVm, Plan } from '../../planning/model.js';
import type { SecretData } from '../../store/store.js';
import {
  DriverError, type ApplyOutcome, type CloudInitWriteOutcome, type DiskInfo, type HypervisorDriver, type HypervisorInventory, type PowerAction, type TaskStatus, type VmCreateRequest, type VmRef,
} from '../driver.js';
import { planDomainCreate } from './create-domain.js';
import type { GuestAgent } from '../guest-agent.js';
import { DomainXml, type Power } from './domain-xml.js';
import { LibvirtGuestAgent } from './guest-agent.js';
import { noCloudSeedFromContent } from './nocloud-content.js';
import { buildNoCloudSeedIso, seedVolumeName, uploadNoCloudSeed } from './nocloud-seed.js';
import { LibvirtClient } from './rpc/client.js';
import { LibvirtError } from './rpc/errors.js';
import { DeviceModifyFlags, DomainXmlFlags, ErrorCode, StoragePoolState, UndefineFlags } from './rpc/protocol.js';
import type { DomainRef, VolumeRef } from './rpc/types.js';
import { attr, child, childElements, escapeXml, parseXml } from './xml-tree.js';
import { byCodeUnits } from '../../order.js';

export interface LibvirtDriverOptions {
  uri: string;
  storagePool: string;
  isoPool?: string;
  maxInFlightCalls: number;
  requestTimeoutSeconds: number;
  credentials?: Record<string, string>;
  insecureSkipVerify?: boolean;
  /** Domain type of created VMs; auto picks kvm when the capabilities offer it. */
  domainType?: 'auto' | 'kvm' | 'qemu';
}

const POWER: Record<string, Power> = {
  running: 'Running', blocked: 'Running', paused: 'Paused', pmsuspended: 'Paused', shutdown: 'Running', shutoff: 'Stopped', crashed: 'Stopped', nostate: 'Unknown',
};

/** Turns client errors into DriverErrors, keeping libvirt's code and message. */
function driverError(what: string, err: unknown): DriverError {
  if (err instanceof DriverError) return err;
  if (err instanceof LibvirtError) return new DriverError(err.code, `${what}: ${err.message}`, { cause: err });
  return new DriverError('LibvirtError', `${what}: ${(err as Error).message ?? String(err)}`, { cause: err });
}

export class LibvirtDriver implements HypervisorDriver {
  readonly client: LibvirtClient;

  constructor(private readonly options: LibvirtDriverOptions) {
    const c = options.credentials ?? {};
    this.client = new LibvirtClient({
      uri: options.uri,
      maxInFlightCalls: options.maxInFlightCalls,
      callTimeoutMs: options.requestTimeoutSeconds * 1000,
      insecureSkipVerify: options.insecureSkipVerify,
      credentials: { tlsCert: c['tls.crt'], tlsKey: c['tls.key'], tlsCa: c['ca.crt'], sshPrivateKey: c['ssh-privatekey'], sshKnownHosts: c.known_hosts },
    });
  }

  async inventory(signal: AbortSignal): Promise<HypervisorInventory> {
    try {
      const [lib, type, hv, host, pools] = await Promise.all([
        this.client.libvirtVersion(signal), this.client.hypervisorType(signal), this.client.hypervisorVersion(signal),
        this.client.hostname(signal), this.client.listPools(0, signal),
      ]);
      const storages: HypervisorInventory['storages'] = [];
      for (const pool of pools) {
        const [info, xml] = await Promise.all([this.client.poolInfo(pool, signal), this.client.poolXml(pool, signal)]);
        const running = StoragePoolState[info.state as keyof typeof StoragePoolState] === 'running';
        storages.push({
          name: pool.name, node: host, type: attr(parseXml(xml, 'pool XML').root, 'type'),
          ...(running ? { totalBytes: info.capacityBytes, availableBytes: info.availableBytes } : {}),
        });
      }
      const isoPoolName = this.options.isoPool ?? this.options.storagePool;
      const isos: HypervisorInventory['isos'] = [];
      const isoPool = pools.find((p) => p.name === isoPoolName);
      if (isoPool) {
        // Files copied into a dir pool's directory appear only after a refresh.
        await this.client.refreshPool(isoPool, signal).catch(() => undefined);
        for (const vol of await this.client.listVolumes(isoPool, signal)) {
          if (!/\.iso$/i.test(vol.name)) continue;
          const info = await this.client.volumeInfo(vol, signal);
          isos.push({ volume: `${vol.pool}/${vol.name}`, sizeBytes: info.capacityBytes });
        }
        isos.sort((a, b) => byCodeUnits(a.volume, b.volume));
      }
      return { version: `${lib} (${type} ${hv})`, nodes: [{ name: host, online: true }], storages, isos };
    } catch (err) {
      throw driverError(`reading the inventory of ${this.options.uri}`, err);
    }
  }

  guestAgent(ref: VmRef): GuestAgent {
    if (!ref.domainName) throw new DriverError('InvalidRef', 'a libvirt VM is named by spec.libvirt.domainName');
    return new LibvirtGuestAgent(this.client, ref.domainName);
  }

  private async lookup(ref: VmRef, signal: AbortSignal): Promise<DomainRef | undefined> {
    if (!ref.domainName) throw new DriverError('InvalidRef', 'a libvirt VM is named by spec.libvirt.domainName');
    try {
      return await this.client.lookupDomainByName(ref.domainName, signal);
    } catch (err) {
      if (err instanceof LibvirtError && err.is(ErrorCode.NO_DOMAIN)) return undefined;
      throw driverError(`looking up domain ${ref.domainName}`, err);
    }
  }

  async readVm(ref: VmRef, signal: AbortSignal): Promise<ObservedVm | undefined> {
    const dom = await this.lookup(ref, signal);
    if (!dom) return undefined;
    try {
      const [xml, state] = await Promise.all([this.client.domainXml(dom, DomainXmlFlags.INACTIVE, signal), this.client.domainState(dom, signal)]);
      return DomainXml.parse(xml).observe(POWER[state.state] ?? 'Unknown');
    } catch (err) {
      throw driverError(`reading domain ${dom.name}`, err);
    }
  }

  async applyPlan(ref: VmRef, observed: ObservedVm, plan: Plan, signal: AbortSignal): Promise<ApplyOutcome> {
    const dom = await this.lookup(ref, signal);
    if (!dom) throw new DriverError('VmNotFound', `domain ${ref.domainName} does not exist`);
    const before = await this.client.domainXml(dom, DomainXmlFlags.INACTIVE, signal).catch((err: unknown) => { throw driverError(`reading domain ${dom.name}`, err); });
    if (observed.digest && createHash('sha256').update(before).digest('hex') !== observed.digest) {
      throw new DriverError('DigestMismatch', `domain ${dom.name} changed since it was read; re-read and re-plan`);
    }
    const doc = DomainXml.parse(before);
    doc.applyPlan(plan, { cloudInitVolume: this.seedVolume(dom.name) });
    if (!doc.changed) return { appliedSteps: plan.steps.length };

    try {
      await this.client.defineDomain(doc.toString(), 0, signal);
    } catch (err) {
      throw driverError(`defining domain ${dom.name} with the planned devices`, err);
    }
    const state = await this.client.domainState(dom, signal);
    if (POWER[state.state] !== 'Running' && POWER[state.state] !== 'Paused') return { appliedSteps: plan.steps.length };

    // Running: swap media live in drives the running domain already has; the rest waits for a restart.
    const live = DomainXml.parse(await this.client.domainXml(dom, 0, signal));
    const liveSlots = new Set(live.observe().devices.map((d) => d.slot));
    const pending: string[] = [];
    const swapped: string[] = [];
    try {
      for (const step of plan.steps) {
        const slot = 'slot' in step ? step.slot : undefined;
        if (step.op === 'setBootOrder') { pending.push('bootOrder'); continue; }
        if (!slot) continue;
        const wanted = doc.liveDiskXml(slot);
        // A drive that is new, removed, or the cloud-init drive going away changes the device set: not hot-pluggable on IDE/SATA.
        if (!liveSlots.has(slot) || !wanted || step.op === 'removeCloudInit') { pending.push(slot); continue; }
        await this.client.updateDevice(dom, wanted, DeviceModifyFlags.LIVE, signal);
        swapped.push(slot);
      }
    } catch (err) {
      // Leave the VM as it was: the persistent config goes back, and the error names what was changed live.
      await this.client.defineDomain(before, 0, signal).catch(() => undefined);
      throw driverError(`changing media live on ${dom.name} (rolled back the persistent config; live media already changed: ${swapped.join(', ') || 'none'})`, err);
    }
    return { appliedSteps: plan.steps.length, pending: pending.length > 0 ? [...new Set(pending)] : undefined };
  }

  /** Where a domain's NoCloud seed lives: pool/<domain>-cidata.iso in the Hypervisor's storage pool. */
  private seedVolume(domainName: string): string {
    return `${this.options.storagePool}/${seedVolumeName(domainName)}`;
  }

  /**
   * Builds the NoCloud seed from the content, uploads it as <domain>-cidata.iso (replacing the
   * old one), and points the cloud-init CD-ROM at it when it points elsewhere (a seed someone
   * made by hand, or a path): persistent config, and the running domain's media where it runs.
   */
  async writeCloudInit(ref: VmRef, observed: ObservedVm, content: CloudInitContent, signal: AbortSignal): Promise<CloudInitWriteOutcome> {
    const dom = await this.lookup(ref, signal);
    if (!dom) throw new DriverError('VmNotFound', `domain ${ref.domainName} does not exist`);
    const seed = noCloudSeedFromContent(content, {
      hostname: dom.name,
      instanceId: cloudInitHash(content).slice(0, 40),
      macs: observed.nics.map((n) => n.mac),
    });
    const volume = this.seedVolume(dom.name);
    try {
      await uploadNoCloudSeed(this.client, this.options.storagePool, dom.name, buildNoCloudSeedIso(seed), signal);
      const doc = DomainXml.parse(await this.client.domainXml(dom, DomainXmlFlags.INACTIVE, signal));
      const drive = doc.observe().devices.find((d) => d.kind === 'cloudinit');
      if (!drive || drive.volume === volume) return { incomplete: [] };
      const now = doc.observe();
      doc.applyPlan({ devices: now.devices.map((d) => (d.slot === drive.slot ? { ...d, volume } : d)), bootOrder: now.bootOrder });
      await this.client.defineDomain(doc.toString(), 0, signal);
      if (await this.running(dom, signal)) {
        const live = doc.liveDiskXml(drive.slot);
        if (live) await this.client.updateDevice(dom, live, DeviceModifyFlags.LIVE, signal);
      }
      return { incomplete: [] };
    } catch (err) {
      throw driverError(`writing the cloud-init seed ${volume} of ${dom.name}`, err);
    }
  }

  /** The storage volume behind a disk: pool/volume, or the volume whose path the disk names. */
  private async volumeOf(volume: string, signal: AbortSignal): Promise<VolumeRef> {
    if (volume.startsWith('/')) return this.client.lookupVolumeByPath(volume, signal);
    const slash = volume.indexOf('/');
    return this.client.lookupVolume(await this.client.lookupPool(volume.slice(0, slash), signal), volume.slice(slash + 1), signal);
  }

  /**
   * Sizes of one disk: from qemu while the domain runs (it knows the live size), else from the
   * storage volume (libvirt cannot read block info of an inactive domain's volume disks).
   */
  private async sizes(dom: DomainRef, dev: string, volume: string | undefined, running: boolean, signal: AbortSignal): Promise<{ capacityBytes: number; allocationBytes: number }> {
    if (running || !volume) return this.client.blockInfo(dom, dev, signal);
    return this.client.volumeInfo(await this.volumeOf(volume, signal), signal);
  }

  private async running(dom: DomainRef, signal: AbortSignal): Promise<boolean> {
    const { state } = await this.client.domainState(dom, signal);
    return POWER[state] === 'Running' || POWER[state] === 'Paused';
  }

  async diskInfo(ref: VmRef, signal: AbortSignal): Promise<DiskInfo[]> {
    const dom = await this.lookup(ref, signal);
    if (!dom) throw new DriverError('VmNotFound', `domain ${ref.domainName} does not exist`);
    try {
      const doc = DomainXml.parse(await this.client.domainXml(dom, DomainXmlFlags.INACTIVE, signal));
      const running = await this.running(dom, signal);
      const out: DiskInfo[] = [];
      for (const d of doc.observe().devices.filter((x) => x.kind === 'disk')) {
        const { capacityBytes, allocationBytes } = await this.sizes(dom, doc.targetOfSlot(d.slot)!, d.volume, running, signal);
        out.push({ slot: d.slot, ...(d.volume ? { volume: d.volume } : {}), capacityBytes, allocationBytes });
      }
      return out;
    } catch (err) {
      throw driverError(`reading the disks of ${dom.name}`, err);
    }
  }

  async growDisk(ref: VmRef, slot: string, sizeBytes: number, signal: AbortSignal): Promise<void> {
    const dom = await this.lookup(ref, signal);
    if (!dom) throw new DriverError('VmNotFound', `domain ${ref.domainName} does not exist`);
    const doc = DomainXml.parse(await this.client.domainXml(dom, DomainXmlFlags.INACTIVE, signal).catch((err: unknown) => { throw driverError(`reading domain ${dom.name}`, err); }));
    const disk = doc.observe().devices.find((d) => d.slot === slot);
    const dev = doc.targetOfSlot(slot);
    if (!disk || disk.kind !== 'disk' || !dev) throw new DriverError('DiskNotFound', `domain ${dom.name} has no disk at ${slot}`);
    try {
      const running = await this.running(dom, signal);
      const current = await this.sizes(dom, dev, disk.volume, running, signal);
      if (sizeBytes < current.capacityBytes) {
        throw new DriverError('ShrinkRefused', `disk ${slot} of ${dom.name} is ${current.capacityBytes} bytes; shrinking it to ${sizeBytes} would destroy data and is refused`);
      }
      if (sizeBytes === current.capacityBytes) return;
      // Online, qemu grows the image and tells the guest; offline, the storage volume is resized.
      if (running) await this.client.blockResize(dom, dev, sizeBytes, signal);
      else if (disk.volume) await this.client.resizeVolume(await this.volumeOf(disk.volume, signal), sizeBytes, {}, signal);
      else throw new DriverError('DiskNotResizable', `disk ${slot} of ${dom.name} has no storage volume to resize`);
    } catch (err) {
      throw driverError(`growing disk ${slot} of ${dom.name}`, err);
    }
  }

  /**
   * Creates the disk volumes, then defines the domain (left shut off). A volume with one of the
   * planned names that this create did not make is someone else's unless request.resume says an
   * earlier, interrupted pass made it: then it is reused (never made twice). If the define fails,
   * the volumes made in this call (new and empty) are deleted again; reused ones stay.
   */
  async createVm(ref: VmRef, request: VmCreateRequest, signal: AbortSignal): Promise<{ task?: string }> {
    const name = ref.domainName;
    if (!name) throw new DriverError('InvalidRef', 'a libvirt VM is named by spec.libvirt.domainName');
    if (request.source !== 'create') throw new DriverError('CloneNotSupported', `spec.source: clone is not supported on libvirt yet; create domain ${name} from spec.hardware (spec.source: create) instead.`);
    if (!request.hardware) throw new DriverError('InvalidSpec', 'spec.hardware is required when spec.source is create.');
    if (await this.lookup(ref, signal)) throw new DriverError('VmExists', `domain ${name} already exists`);
    let plan;
    try {
      plan = planDomainCreate(name, request.hardware, request.owner, { defaultPool: this.options.storagePool, domainType: await this.domainType(request.hardware.arch, signal) });
    } catch (err) {
      throw new DriverError('InvalidSpec', `spec.hardware.disks: ${(err as Error).message}`, { cause: err });
    }
    const made: VolumeRef[] = [];
    try {
      for (const volume of plan.volumes) {
        const pool = await this.client.lookupPool(volume.pool, signal).catch((err: unknown) => {
          throw err instanceof LibvirtError && err.is(ErrorCode.NO_STORAGE_POOL) ? new DriverError('InvalidSpec', `${volume.field}.storage: pool ${volume.pool} does not exist`) : err;
        });
        const existing = await this.client.lookupVolume(pool, volume.name, signal).catch((err: unknown) => {
          if (err instanceof LibvirtError && err.is(ErrorCode.NO_STORAGE_VOL)) return undefined;
          throw err;
        });
        if (existing) {
          if (!request.resume) throw new DriverError('VolumeExists', `volume ${volume.pool}/${volume.name} (for ${volume.field}) already exists and bootplane did not create it for this VM; it is left alone. Remove or rename it, or choose another spec.libvirt.domainName.`);
          const info = await this.client.volumeInfo(existing, signal);
          if (info.capacityBytes < volume.capacityBytes) await this.client.resizeVolume(existing, volume.capacityBytes, {}, signal);
          continue;
        }
        made.push(await this.client.createVolume(pool, volume.xml, 0, signal));
      }
      await this.client.defineDomain(plan.domainXml, 0, signal);
      return {};
    } catch (err) {
      for (const vol of made.reverse()) await this.client.deleteVolume(vol, signal).catch(() => undefined);
      throw driverError(`creating domain ${name}`, err);
    }
  }

  /** kvm or qemu for created domains: as the Hypervisor says, or kvm when the capabilities offer it for the arch. */
  private async domainType(arch: string, signal: AbortSignal): Promise<'kvm' | 'qemu'> {
    const wanted = this.options.domainType ?? 'auto';
    if (wanted !== 'auto') return wanted;
    const caps = parseXml(await this.client.capabilities(signal), 'capabilities XML').root;
    for (const guest of childElements(caps, 'guest')) {
      const a = child(guest, 'arch');
      if (attr(a, 'name') !== arch) continue;
      if (childElements(a!, 'domain').some((d) => attr(d, 'type') === 'kvm')) return 'kvm';
    }
    return 'qemu';
  }

  async listSnapshots(ref: VmRef, signal: AbortSignal): Promise<string[]> {
    const dom = await this.lookup(ref, signal);
    if (!dom) throw new DriverError('VmNotFound', `domain ${ref.domainName} does not exist`);
    try {
      return await this.client.snapshotNames(dom, signal);
    } catch (err) {
      throw driverError(`listing the snapshots of ${dom.name}`, err);
    }
  }

  /**
   * An internal snapshot (libvirt's default: disk state inside each qcow2 image, plus memory on
   * a running domain). libvirt refuses it when a disk is not qcow2; the error says so.
   */
  async createSnapshot(ref: VmRef, name: string, description: string, signal: AbortSignal): Promise<{ task?: string }> {
    const dom = await this.lookup(ref, signal);
    if (!dom) throw new DriverError('VmNotFound', `domain ${ref.domainName} does not exist`);
    const xml = `<domainsnapshot><name>${escapeXml(name)}</name><description>${escapeXml(description)}</description></domainsnapshot>`;
    try {
      await this.client.snapshotCreateXml(dom, xml, 0, signal);
      return {};
    } catch (err) {
      throw driverError(`taking snapshot ${name} of ${dom.name} (internal snapshots need every disk in qcow2 format)`, err);
    }
  }

  /**
   * Destroys the domain when it runs, undefines it (with its snapshot metadata, managed save and
   * NVRAM), then deletes the storage volumes it owns: disks and the cloud-init seed whose volume
   * name starts with the domain's name (<domain>.qcow2, <domain>-data.qcow2, <domain>-cidata.iso).
   * Anything else a disk points at (shared images, ISOs, files outside a pool) is left and named
   * in keptVolumes.
   */
  async deleteVm(ref: VmRef, signal: AbortSignal): Promise<{ task?: string; keptVolumes?: string[] }> {
    const dom = await this.lookup(ref, signal);
    if (!dom) return {};
    const kept: string[] = [];
    try {
      const observed = DomainXml.parse(await this.client.domainXml(dom, DomainXmlFlags.INACTIVE, signal)).observe();
      if (await this.running(dom, signal)) await this.client.destroyDomain(dom, 0, signal);
      await this.client.undefineDomain(dom, UndefineFlags.MANAGED_SAVE | UndefineFlags.SNAPSHOTS_METADATA | UndefineFlags.NVRAM, signal);
      for (const device of observed.devices) {
        if (!device.volume || device.kind === 'cdrom') continue;
        const base = device.volume.slice(device.volume.lastIndexOf('/') + 1);
        if (!ownedByDomain(base, dom.name)) {
          kept.push(device.volume);
          continue;
        }
        const vol = await this.volumeOf(device.volume, signal).catch(() => undefined);
        if (vol) await this.client.deleteVolume(vol, signal);
        else kept.push(device.volume);
      }
      return { keptVolumes: kept };
    } catch (err) {
      throw driverError(`deleting domain ${dom.name}`, err);
    }
  }

  taskStatus(): Promise<TaskStatus> {
    return Promise.resolve({ done: true, ok: true, message: 'libvirt operations complete synchronously' });
  }

  async power(ref: VmRef, action: PowerAction, signal: AbortSignal): Promise<{ task?: string }> {
    const dom = await this.lookup(ref, signal);
    if (!dom) throw new DriverError('VmNotFound', `domain ${ref.domainName} does not exist`);
    try {
      const { state } = await this.client.domainState(dom, signal);
      const running = POWER[state] === 'Running' || POWER[state] === 'Paused';
      if (action === 'start' && !running) await this.client.createDomain(dom, 0, signal);
      if (action === 'stop' && running) await this.client.destroyDomain(dom, 0, signal);
      if (action === 'shutdown' && running) await this.client.shutdownDomain(dom, 0, signal);
      if (action === 'reboot') {
        if (running) await this.client.rebootDomain(dom, 0, signal);
        else await this.client.createDomain(dom, 0, signal);
      }
      return {};
    } catch (err) {
      throw driverError(`${action} of domain ${dom.name}`, err);
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** A volume the domain owns: named after it (<domain>.ext or <domain>-anything). */
export function ownedByDomain(volumeName: string, domainName: string): boolean {
  return volumeName.startsWith(`${domainName}.`) || volumeName.startsWith(`${domainName}-`);
}

export function libvirtDriverFactory(hv: Hypervisor, credentials: SecretData | undefined): HypervisorDriver {
  const spec = hv.spec.libvirt;
  if (!spec) throw new DriverError('InvalidSpec', 'spec.libvirt is required when spec.type is libvirt');
  return new LibvirtDriver({
    uri: spec.uri,
    storagePool: spec.storagePool,
    isoPool: spec.isoPool,
    maxInFlightCalls: spec.maxInFlightCalls,
    requestTimeoutSeconds: hv.spec.requestTimeoutSeconds,
    credentials: credentials?.data,
    insecureSkipVerify: hv.spec.tls?.insecureSkipVerify,
    domainType: spec.domainType,
  });
}
