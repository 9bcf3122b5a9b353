// What the console shows, computed from cached objects: pure functions, no I/O. Rows are small
// (the fleet table and the live stream carry thousands of them) and never hold a Secret value:
// only fields of bootplane's own kinds are copied, by name.
import type { BootProfile } from '../api/v1alpha1/boot-profile.js';
import type { Condition } from '../api/v1alpha1/common.js';
import type { Hypervisor } from '../api/v1alpha1/hypervisor.js';
import type { IsoAttachment } from '../api/v1alpha1/iso-attachment.js';
import type { NodeBootAssignment } from '../api/v1alpha1/node-boot-assignment.js';
import type { VirtualMachine } from '../api/v1alpha1/virtual-machine.js';
import { desiredMedia, networkBootActive } from '../controllers/virtualmachine/status.js';
import { keyOf } from '../kube/object.js';
import type { Device, ObservedVm, Step } from '../planning/model.js';
import { PlanRefused } from '../planning/model.js';
import { planMedia } from '../planning/plan-media.js';
import { gitOpsManager } from './gitops.js';

export interface FleetRow {
  key: string;
  namespace: string;
  name: string;
  hypervisor: string;
  power: string;
  installState: string;
  phase: string;
  progress?: number;
  bootOrder: string;
  isos: string;
  cloudInitSlot: string;
  ready: string;
  readyReason: string;
  lastEvent: string;
  gitOps?: string;
}

function condition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** The latest condition change stands in for the last Event: it is in the cache, Events are not. */
function latestTransition(conditions: readonly Condition[] | undefined): Condition | undefined {
  let latest: Condition | undefined;
  for (const c of conditions ?? []) if (!latest || c.lastTransitionTime >= latest.lastTransitionTime) latest = c;
  return latest;
}

export function fleetRow(vm: VirtualMachine): FleetRow {
  const status = vm.status ?? {};
  const ready = condition(status.conditions, 'Ready');
  const last = latestTransition(status.conditions);
  const isos = (status.devices ?? []).filter((d) => d.kind === 'cdrom' && d.volume).map((d) => `${d.slot}: ${d.volume}`).join(', ');
  const row: FleetRow = {
    key: keyOf(vm),
    namespace: vm.metadata.namespace ?? 'default',
    name: vm.metadata.name,
    hypervisor: vm.spec.hypervisorRef.name,
    power: status.power ?? 'Unknown',
    installState: status.install?.state ?? (vm.spec.install ? 'NotInstalled' : '—'),
    phase: status.operation?.kind ?? (ready?.status === 'True' ? 'Converged' : ready?.reason ?? 'Pending'),
    bootOrder: status.bootOrderText ?? (vm.spec.bootOrder?.devices?.join(',') ?? vm.spec.bootOrder?.preset ?? ''),
    isos,
    cloudInitSlot: status.cloudInitSlot ?? '',
    ready: ready?.status ?? 'Unknown',
    readyReason: ready?.reason ?? '',
    lastEvent: last ? `${last.type} ${last.reason}: ${last.message}`.slice(0, 200) : '',
  };
  if (status.install?.progressPercent !== undefined) row.progress = status.install.progressPercent;
  const gitOps = gitOpsManager(vm);
  if (gitOps) row.gitOps = gitOps.tool;
  return row;
}

/** The VM as its status last saw it, in the planner's terms. */
export function observedFromStatus(vm: VirtualMachine): ObservedVm | undefined {
  const status = vm.status;
  if (!status?.devices) return undefined;
  const hw = vm.spec.hardware;
  const devices: Device[] = [];
  const nics: ObservedVm['nics'] = [];
  const macs = status.macAddresses ?? [];
  for (const d of status.devices) {
    if (d.kind === 'network') nics.push({ slot: d.slot, mac: macs[nics.length] ?? '', model: 'virtio' });
    else devices.push({ slot: d.slot, kind: d.kind, ...(d.volume ? { volume: d.volume } : {}), ...(d.sizeBytes !== undefined ? { sizeBytes: d.sizeBytes } : {}) });
  }
  return {
    name: vm.metadata.name,
    osHints: {},
    machine: { machine: hw?.machine ?? 'pc', arch: hw?.arch ?? 'x86_64', firmware: hw?.firmware ?? 'bios' },
    devices,
    nics,
    bootOrder: status.bootOrder ?? [],
    power: status.power ?? 'Unknown',
  };
}

export interface PlannerView {
  /** Steps as `bootplane plan` prints them, or why there are none. */
  steps: Step[];
  warnings: string[];
  refused?: string;
  unknown?: string;
}

/** "What bootplane would do now": the planner's steps for the spec against the last observation. */
export function plannerView(vm: VirtualMachine, attachments: readonly IsoAttachment[], assignments: readonly NodeBootAssignment[]): PlannerView {
  const observed = observedFromStatus(vm);
  if (!observed) return { steps: [], warnings: [], unknown: 'The VM has not been observed on its hypervisor yet.' };
  try {
    const plan = planMedia(observed, desiredMedia(vm, attachments, networkBootActive(assignments)));
    return { steps: plan.steps, warnings: plan.warnings };
  } catch (err) {
    if (err instanceof PlanRefused) return { steps: [], warnings: [], refused: err.message };
    throw err;
  }
}

export interface HypervisorView {
  name: string;
  type: string;
  endpoint: string;
  reachable: string;
  reason: string;
  message: string;
  version: string;
  nodes: { name: string; online: boolean }[];
  storages: { name: string; node?: string; type?: string; content?: string[]; totalBytes?: number; availableBytes?: number }[];
  isos: { volume: string; sizeBytes?: number }[];
}

export function hypervisorView(h: Hypervisor): HypervisorView {
  const status = h.status ?? {};
  const ready = condition(status.conditions, 'Ready') ?? condition(status.conditions, 'Reachable');
  return {
    name: h.metadata.name,
    type: h.spec.type,
    endpoint: status.endpoint ?? h.spec.proxmox?.endpoint ?? h.spec.libvirt?.uri ?? '',
    reachable: ready?.status ?? 'Unknown',
    reason: ready?.reason ?? '',
    message: ready?.message ?? '',
    version: status.version ?? '',
    nodes: (status.nodes ?? []).map((n) => ({ name: n.name, online: n.online })),
    storages: (status.storages ?? []).map((s) => ({ name: s.name, node: s.node, type: s.type, content: s.content, totalBytes: s.totalBytes, availableBytes: s.availableBytes })),
    isos: (status.isos ?? []).map((i) => ({ volume: i.volume, sizeBytes: i.sizeBytes })),
  };
}

export interface AssignmentView {
  key: string;
  namespace: string;
  name: string;
  mac: string;
  uuid: string;
  vm: string;
  profile: string;
  state: string;
  bootMode: string;
  lastBoot: string;
  bootCount: number;
  ready: string;
}

export function assignmentView(a: NodeBootAssignment): AssignmentView {
  const status = a.status as (NodeBootAssignment['status'] & { lastBoot?: { time?: string; clientIP?: string }; bootCount?: number }) | undefined;
  return {
    key: keyOf(a),
    namespace: a.metadata.namespace ?? 'default',
    name: a.metadata.name,
    mac: a.spec.mac ?? '',
    uuid: a.spec.uuid ?? '',
    vm: a.spec.vmRef?.name ?? '',
    profile: a.spec.profileRef.name,
    state: a.spec.state ?? 'Enabled',
    bootMode: a.spec.bootMode ?? 'Always',
    lastBoot: status?.lastBoot?.time ? `${status.lastBoot.time} from ${status.lastBoot.clientIP ?? '?'}` : '',
    bootCount: status?.bootCount ?? 0,
    ready: condition(status?.conditions, 'Ready')?.status ?? 'Unknown',
  };
}

export interface ProfileView {
  key: string;
  namespace: string;
  name: string;
  type: string;
  public: boolean;
  firmware: string;
  ready: string;
}

export function profileView(p: BootProfile): ProfileView {
  return {
    key: keyOf(p),
    namespace: p.metadata.namespace ?? 'default',
    name: p.metadata.name,
    type: p.spec.type,
    public: p.spec.public ?? false,
    firmware: (p.spec.firmware ?? ['bios', 'uefi']).join(', '),
    ready: condition((p.status as { conditions?: Condition[] } | undefined)?.conditions, 'Ready')?.status ?? 'Unknown',
  };
}

export interface AttachmentView {
  key: string;
  name: string;
  vm: string;
  volume: string;
  slot: string;
  purpose: string;
  phase: string;
}

export function attachmentView(iso: IsoAttachment): AttachmentView {
  const source = iso.spec.source as { volume?: string; url?: string };
  return {
    key: keyOf(iso),
    name: iso.metadata.name,
    vm: iso.spec.vmRef.name,
    volume: iso.status?.volume ?? source.volume ?? source.url ?? '',
    slot: iso.status?.slot ?? iso.spec.slot,
    purpose: iso.spec.purpose,
    phase: iso.status?.phase ?? 'Pending',
  };
}
