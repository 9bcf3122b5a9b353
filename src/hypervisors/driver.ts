// The one interface controllers use to talk to a hypervisor. Each driver (Proxmox over its HTTP
// API, libvirt over its RPC protocol) implements it; controllers never import a driver directly.
import type { Hypervisor } from '../api/v1alpha1/hypervisor.js';
import type { OsFamily, VirtualMachineSpec } from '../api/v1alpha1/virtual-machine.js';
import type { CloudInitContent } from '../planning/cloud-init.js';
import type { ObservedVm, Plan } from '../planning/model.js';
import type { SecretData } from '../store/store.js';
import type { GuestAgent } from './guest-agent.js';

export interface HypervisorInventory {
  version: string;
  nodes: { name: string; online: boolean }[];
  storages: { name: string; node?: string; type?: string; content?: string[]; totalBytes?: number; availableBytes?: number }[];
  isos: { volume: string; sizeBytes?: number }[];
}

/** Which VM on the hypervisor: Proxmox node + vmid, or a libvirt domain name. */
export interface VmRef {
  node?: string;
  vmid?: number;
  domainName?: string;
}

export interface ApplyOutcome {
  /** How many of plan.steps were applied (all of them unless a task is still running). */
  appliedSteps: number;
  /** A hypervisor task still running (Proxmox UPID): record it in status and poll on a later pass. */
  task?: string;
  /** Config keys left pending until the VM restarts. */
  pending?: string[];
  /**
   * The VM as read once the change was made, when the driver read it anyway (Proxmox reads the
   * config back for its pending keys): the caller need not read it again.
   */
  observed?: ObservedVm;
  /**
   * Present when the driver wrote the cloud-init content it was given along with the change (as
   * writeCloudInit would have); absent, the caller writes it with writeCloudInit.
   */
  cloudInit?: CloudInitWriteOutcome;
}

export interface ApplyOptions {
  /**
   * Cloud-init content due on the drive the plan places. A driver may write it within the change
   * (Proxmox: the ci* keys go with the drive keys and the plan's regeneration makes the image,
   * two requests fewer) and say so in ApplyOutcome.cloudInit.
   */
  cloudInit?: CloudInitContent;
}

export interface TaskStatus {
  done: boolean;
  ok?: boolean;
  message?: string;
  progressPercent?: number;
}

export interface DiskInfo {
  slot: string;
  volume?: string;
  /** Virtual size the guest sees. */
  capacityBytes: number;
  /** Space the image takes on its storage. */
  allocationBytes: number;
}

export interface CloudInitWriteOutcome {
  /**
   * Why part of the content could not be written (for example a Proxmox snippet that must be
   * placed on storage by hand). Empty when everything landed. Never carries content.
   */
  incomplete: string[];
}

export type PowerAction = 'start' | 'stop' | 'shutdown' | 'reboot';

export interface IsoVolumeInfo {
  volume: string;
  sizeBytes?: number;
}

export interface IsoDownloadRequest {
  url: string;
  /** File name on storage (the hypervisor may normalise it; the returned volume is the real one). */
  filename: string;
  checksum: { algorithm: 'sha256' | 'sha512'; value: string };
  /** Node to download on (Proxmox); defaults to the Hypervisor's default node. */
  node?: string;
}

/** A VM bootplane makes: from spec.hardware (create) or from a template (clone). */
export interface VmCreateRequest {
  source: 'create' | 'clone';
  /** VM name on the hypervisor (Proxmox name; libvirt uses ref.domainName). */
  name: string;
  /** Marker written into the VM (Proxmox description, libvirt <description>) so later passes know bootplane made it. */
  owner: string;
  hardware?: NonNullable<VirtualMachineSpec['hardware']>;
  cloneFrom?: NonNullable<VirtualMachineSpec['cloneFrom']>;
  osFamily?: OsFamily;
  /**
   * True when an earlier pass recorded this create in status before it began and did not see it
   * end: volumes with bootplane's names for this VM are then its own leftovers and are reused,
   * never created twice. False: such a volume belongs to someone else and the create is refused.
   */
  resume: boolean;
}

export interface HypervisorDriver {
  /** Connects (or reuses a connection) and reads version, nodes, storages and ISO volumes. */
  inventory(signal: AbortSignal): Promise<HypervisorInventory>;
  /** The VM as the hypervisor sees it now, or undefined when it does not exist. */
  readVm(ref: VmRef, signal: AbortSignal): Promise<ObservedVm | undefined>;
  /**
   * Applies a plan made against `observed` (stale digests are refused by the hypervisor and
   * surface as a DriverError with code DigestMismatch: re-read and re-plan). Never awaits a long
   * task: returns it instead.
   */
  applyPlan(ref: VmRef, observed: ObservedVm, plan: Plan, signal: AbortSignal, options?: ApplyOptions): Promise<ApplyOutcome>;
  taskStatus(ref: VmRef, task: string, signal: AbortSignal): Promise<TaskStatus>;
  power(ref: VmRef, action: PowerAction, signal: AbortSignal): Promise<{ task?: string }>;
  /** The ISO volume as storage reports it (seen from the VM's node), or undefined when it is not there. */
  findIso?(volume: string, ref: VmRef, signal: AbortSignal): Promise<IsoVolumeInfo | undefined>;
  /**
   * Starts downloading a URL into the ISO storage, verified against the checksum. Returns the
   * volume it will become and the task to poll; an identical file already there ends the task OK.
   */
  downloadIso?(request: IsoDownloadRequest, signal: AbortSignal): Promise<{ volume: string; task?: string }>;
  /** Virtual size and allocation of each disk (not CD-ROMs). Optional: drivers without it omit it. */
  diskInfo?(ref: VmRef, signal: AbortSignal): Promise<DiskInfo[]>;
  /** Grows a disk to sizeBytes (online when the VM runs); a smaller size is refused (code ShrinkRefused). */
  growDisk?(ref: VmRef, slot: string, sizeBytes: number, signal: AbortSignal): Promise<void>;
  /**
   * Writes the cloud-init drive's content (after applyPlan has placed the drive): Proxmox ci*
   * keys then regenerate, libvirt a NoCloud seed volume the drive points at. The controller calls
   * it only when the content hash changes. Errors and outcomes never contain the content.
   */
  writeCloudInit?(ref: VmRef, observed: ObservedVm, content: CloudInitContent, signal: AbortSignal): Promise<CloudInitWriteOutcome>;
  /**
   * Creates the VM ref names, which must not exist (VmExists otherwise). Returns the task to poll
   * when the hypervisor creates it in the background (Proxmox qmcreate/qmclone).
   */
  createVm?(ref: VmRef, request: VmCreateRequest, signal: AbortSignal): Promise<{ task?: string }>;
  /** Progress of a running task in percent, when the hypervisor tells (Proxmox download-url). */
  taskProgress?(task: string, signal: AbortSignal): Promise<number | undefined>;
  /** The VM's QEMU guest agent (calls fail with GuestAgentError when it is not there). */
  guestAgent?(ref: VmRef): GuestAgent;
  /** Names of the VM's snapshots (not PVE's "current" pseudo-entry). */
  listSnapshots?(ref: VmRef, signal: AbortSignal): Promise<string[]>;
  /**
   * Takes a snapshot named `name` (disks, and memory on a running VM where the hypervisor saves
   * it). Proxmox returns the task to poll; libvirt completes in the call. An existing snapshot
   * with that name is refused by the hypervisor: call listSnapshots first.
   */
  createSnapshot?(ref: VmRef, name: string, description: string, signal: AbortSignal): Promise<{ task?: string }>;
  /**
   * Removes a VM from the hypervisor, with the disks it owns (Proxmox: its vm-<id>-* volumes;
   * libvirt: the volumes named after the domain; keptVolumes names what a disk pointed at and
   * stays). Proxmox refuses a running VM (code VmRunning): stop it first. Only called when a
   * spec declares it (spec.teardown.action: Delete).
   */
  deleteVm?(ref: VmRef, signal: AbortSignal): Promise<{ task?: string; keptVolumes?: string[] }>;
  close(): Promise<void>;
}

export class DriverError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A driver error should never echo a secret; if one ever does, it stops here. */
export function redact(message: string, secret: string | undefined): string {
  return secret ? message.split(secret).join('[redacted]') : message;
}

export type DriverFactory = (hypervisor: Hypervisor, credentials: SecretData | undefined) => HypervisorDriver;

/** Drivers by hypervisor type; main.ts registers the ones this build ships. */
export class DriverRegistry {
  private readonly factories = new Map<string, DriverFactory>();

  register(type: string, factory: DriverFactory): void { this.factories.set(type, factory); }

  factory(type: string): DriverFactory | undefined { return this.factories.get(type); }
}
