// The hypervisor-neutral model the planner works on. Drivers translate their own view (a
// Proxmox config, a libvirt domain XML) into an ObservedVm, and a Plan's layout and steps back
// into their own writes. Everything here is plain data: no I/O, no classes.
import type { BootPreset, CloudInitPlacement, OsFamily } from '../api/v1alpha1/virtual-machine.js';

export type Bus = 'ide' | 'sata' | 'scsi' | 'virtio';
/** `${bus}${index}`, e.g. ide2, sata0, scsi5, virtio0 (Proxmox names; libvirt targets map onto them). */
export type Slot = string;

export type DeviceKind = 'disk' | 'cdrom' | 'cloudinit';

export interface Device {
  slot: Slot;
  kind: DeviceKind;
  /** Backing volume: a disk volume, an ISO volume (cdrom), or the cloud-init volume. Empty cdrom: undefined. */
  volume?: string;
  sizeBytes?: number;
}

export interface Nic {
  slot: string; // net0, net1, ...
  mac: string;
  model: string;
}

export interface MachineFacts {
  machine: 'pc' | 'q35' | 'virt';
  arch: 'x86_64' | 'aarch64';
  firmware: 'bios' | 'uefi';
}

/** What a hypervisor says a VM is now. */
export interface ObservedVm {
  name: string;
  /** What the VM says about itself, for OS detection: Proxmox ostype, tags, the template it came from. */
  osHints: { ostype?: string; tags?: string[]; template?: string };
  machine: MachineFacts;
  devices: Device[];
  nics: Nic[];
  /** Bootable slots in boot order (disks, cdroms and NICs by slot). */
  bootOrder: Slot[];
  power: 'Running' | 'Stopped' | 'Paused' | 'Unknown';
  /** Optimistic-concurrency token of the config the plan was made against (Proxmox digest). */
  digest?: string;
  /** Config keys the hypervisor holds as pending until the next restart. */
  pending?: string[];
  uuid?: string;
  /** The owner marker bootplane wrote when it created the VM (see hypervisors/owner.ts); absent on VMs it did not create. */
  createdBy?: string;
  /** A hypervisor lock held on the VM (Proxmox `lock: create`, `clone`, ...). */
  lock?: string;
}

export type IsoPurpose = 'installer' | 'drivers' | 'answer' | 'rescue';

export interface DesiredIso {
  /** Stable identity of the request (the IsoAttachment's namespace/name). */
  id: string;
  volume: string;
  slot: 'auto' | Slot;
  purpose: IsoPurpose;
  primaryBoot: boolean;
}

/** What the spec (VirtualMachine + its IsoAttachments) asks for. */
export interface DesiredMedia {
  osFamily?: OsFamily;
  cloudInit?: { placement: CloudInitPlacement };
  /** ISOs that should be attached now (ejected ones are simply absent). */
  isos: DesiredIso[];
  /**
   * ISOs to take out: ones bootplane attached that are now ejected or deleted (from the
   * IsoAttachment's status). Only a CD-ROM still holding exactly this volume at this slot is
   * detached; other media on the VM that bootplane does not manage are left alone.
   */
  eject?: { slot: Slot; volume: string }[];
  bootOrder?: { preset?: BootPreset; devices?: Slot[] };
  /** Boot from the network first (an active NodeBootAssignment for this VM). */
  networkFirst?: boolean;
}

/** One change, always paired with its inverse so a failed multi-step change can be rolled back. */
export type Step =
  | { op: 'attachIso'; slot: Slot; volume: string }
  | { op: 'detachIso'; slot: Slot; volume: string }
  | { op: 'swapMedia'; slot: Slot; from: string; to: string }
  | { op: 'createCloudInit'; slot: Slot }
  | { op: 'removeCloudInit'; slot: Slot }
  | { op: 'regenerateCloudInit' }
  | { op: 'setBootOrder'; order: Slot[]; previous: Slot[] };

export interface Plan {
  /** The device layout and boot order after the steps. */
  devices: Device[];
  bootOrder: Slot[];
  steps: Step[];
  warnings: string[];
  /** Where each DesiredIso ends up, by id. */
  isoSlots: Record<string, Slot>;
  cloudInitSlot?: Slot;
  osFamily: OsFamily;
  osFamilySource: 'spec' | 'hypervisor' | 'name' | 'default';
}

/** A request the planner cannot honour (explicit slot taken by a disk, q35 without ide1...). */
export class PlanRefused extends Error {
  readonly code = 'PlanRefused';
  constructor(message: string, readonly isoId?: string) {
    super(message);
  }
}
