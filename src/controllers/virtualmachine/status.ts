// Pure decisions of the VirtualMachine controller: what media the spec and its IsoAttachments
// ask for, which steps of a plan took effect (to finish or roll back a change another pass or
// replica started), and how observations become status and conditions.
import type { Condition } from '../../api/v1alpha1/common.js';
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import type { VirtualMachine, VirtualMachineStatus } from '../../api/v1alpha1/virtual-machine.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import { keyOf } from '../../kube/object.js';
import type { DesiredMedia, ObservedVm, Step } from '../../planning/model.js';
import { byCodeUnits } from '../../order.js';
import { isoRecord } from './iso-record.js';

/** An IsoAttachment ejects once its VM is installed, when its policy says so. */
export function isEjected(iso: IsoAttachment, vm: VirtualMachine): boolean {
  return iso.spec.ejectPolicy === 'AfterInstall'
    && vm.status?.install?.state === 'Installed'
    && vm.spec.install?.afterInstall?.ejectInstallerIsos !== false;
}

/** The ISO is on storage, as the IsoAttachment's status says (a named volume that exists, or a verified download). */
export function sourceReady(iso: IsoAttachment): boolean {
  return iso.status?.volume !== undefined && iso.status.conditions?.find((c) => c.type === 'SourceReady')?.status === 'True';
}

/**
 * What the IsoAttachment reconciler verified in this process and has not written yet (see
 * isoattachment/verified-sources.ts): the volume of a `source.volume` it found on storage.
 */
export interface VerifiedSources {
  volumeFor(iso: IsoAttachment): string | undefined;
}

/**
 * The volume the VM may attach for this IsoAttachment, or undefined while its source is not
 * known good. A download: status.volume once the download is verified (written in status). A
 * named volume: spec.source.volume itself, once the IsoAttachment reconciler found it on storage —
 * either its status says so for this very volume, or it verified it in this process a moment
 * ago (`verified`) and leaves the status write to after the attach (one status write per
 * attach). Never a volume nobody checked: a name that is not an ISO on storage (another VM's
 * disk, say) is not attached.
 */
export function plannedVolume(iso: IsoAttachment, verified?: VerifiedSources): string | undefined {
  const named = iso.spec.source.url === undefined ? iso.spec.source.volume : undefined;
  if (named !== undefined) {
    if (sourceReady(iso) && iso.status!.volume === named) return named;
    return verified?.volumeFor(iso) === named ? named : undefined;
  }
  return sourceReady(iso) ? iso.status!.volume : undefined;
}

/**
 * Whether one of the machine's NodeBootAssignments is active: enabled, and not a boot-once whose
 * one boot is used. While it is, the VM boots from the network first.
 */
export function networkBootActive(assignments: readonly NodeBootAssignment[]): boolean {
  return assignments.some((a) => {
    if (a.metadata.deletionTimestamp || (a.spec.state ?? 'Enabled') !== 'Enabled') return false;
    const once = a.spec.bootMode === 'Once';
    return !once || a.status?.bootOnceConsumedEpoch !== (a.spec.bootOnceEpoch ?? 0);
  });
}

/**
 * The media the VM should have: the IsoAttachments whose source is good, and out again what the
 * VM's record (status.attachedIsos, iso-record.ts) says bootplane attached for a name that no
 * longer wants it — the IsoAttachment is gone, deleting or ejected, wants another volume now,
 * or the VM itself is being deleted. An IsoAttachment whose source is not known good yet keeps
 * what it has (nothing is asked for, nothing is taken out).
 */
export function desiredMedia(vm: VirtualMachine, attachments: readonly IsoAttachment[], networkFirst = false, verified?: VerifiedSources): DesiredMedia {
  const isos: DesiredMedia['isos'] = [];
  const eject: NonNullable<DesiredMedia['eject']> = [];
  /** The names that stay, with the volume each wants (undefined: not known yet). */
  const staying = new Map<string, string | undefined>();
  const vmLeaving = vm.metadata.deletionTimestamp !== undefined;
  for (const iso of [...attachments].sort((a, b) => byCodeUnits(keyOf(a), keyOf(b)))) {
    // A VM leaving bootplane's care is handed back without the ISOs bootplane attached.
    if (vmLeaving || iso.metadata.deletionTimestamp !== undefined || isEjected(iso, vm)) continue;
    const volume = plannedVolume(iso, verified);
    staying.set(iso.metadata.name, volume);
    if (volume !== undefined) isos.push({ id: keyOf(iso), volume, slot: iso.spec.slot, purpose: iso.spec.purpose, primaryBoot: iso.spec.primaryBoot });
  }
  for (const entry of isoRecord(vm, attachments)) {
    // Only what bootplane put there is taken out: the slot and volume it recorded.
    const wanted = staying.get(entry.name);
    const keep = staying.has(entry.name) && (wanted === undefined || wanted === entry.volume);
    if (!keep) eject.push({ slot: entry.slot, volume: entry.volume });
  }
  const desired: DesiredMedia = { isos, eject };
  if (vm.spec.osFamily) desired.osFamily = vm.spec.osFamily;
  if (vm.spec.cloudInit) desired.cloudInit = { placement: vm.spec.cloudInit.placement };
  const installed = vm.status?.install?.state === 'Installed';
  const preset = installed && vm.spec.install?.afterInstall?.bootPreset ? vm.spec.install.afterInstall.bootPreset : vm.spec.bootOrder?.preset;
  if (preset || vm.spec.bootOrder?.devices) desired.bootOrder = { ...(preset ? { preset } : {}), ...(vm.spec.bootOrder?.devices ? { devices: vm.spec.bootOrder.devices } : {}) };
  if (networkFirst && vm.metadata.deletionTimestamp === undefined) desired.networkFirst = true;
  return desired;
}

/** Whether the VM as observed now shows the effect of this step. */
export function stepInEffect(observed: ObservedVm, step: Step): boolean {
  const at = (slot: string) => observed.devices.find((d) => d.slot === slot);
  switch (step.op) {
    case 'attachIso':
      return at(step.slot)?.kind === 'cdrom' && at(step.slot)?.volume === step.volume;
    case 'detachIso':
      return !(at(step.slot)?.kind === 'cdrom' && at(step.slot)?.volume === step.volume);
    case 'swapMedia':
      return at(step.slot)?.volume === (step.to === 'none' ? undefined : step.to);
    case 'createCloudInit':
      return at(step.slot)?.kind === 'cloudinit';
    case 'removeCloudInit':
      return at(step.slot)?.kind !== 'cloudinit';
    case 'setBootOrder':
      return observed.bootOrder.join(';') === step.order.join(';');
    case 'regenerateCloudInit':
      return false; // leaves no trace in the config; redone or undone along with the drive
  }
}

/** The steps of an interrupted change that took effect, in plan order (what a rollback undoes). */
export function stepsInEffect(observed: ObservedVm, steps: readonly Step[]): Step[] {
  return steps.filter((s) => s.op !== 'regenerateCloudInit' && stepInEffect(observed, s));
}

/** What status says about the VM as the hypervisor reports it. */
export function observedStatus(observed: ObservedVm): Partial<VirtualMachineStatus> {
  const cloudInit = observed.devices.find((d) => d.kind === 'cloudinit');
  return {
    power: observed.power,
    ...(observed.uuid ? { uuid: observed.uuid } : {}),
    macAddresses: observed.nics.map((n) => n.mac).filter(Boolean).slice(0, 16),
    bootOrder: observed.bootOrder.slice(0, 16),
    bootOrderText: observed.bootOrder.join(',').slice(0, 256),
    cloudInitSlot: cloudInit?.slot,
    devices: [
      ...observed.devices.map((d) => ({ slot: d.slot, kind: d.kind, ...(d.volume ? { volume: d.volume } : {}), ...(d.sizeBytes !== undefined ? { sizeBytes: d.sizeBytes } : {}) })),
      ...observed.nics.map((n) => ({ slot: n.slot, kind: 'network' as const })),
    ].slice(0, 64),
    pendingChanges: (observed.pending ?? []).slice(0, 64),
  };
}

export function restartRequiredCondition(observed: ObservedVm): ConditionUpdate {
  const pending = observed.pending ?? [];
  if (pending.length > 0 && observed.power !== 'Stopped') {
    return { type: 'RestartRequired', status: 'True', reason: 'PendingChanges', message: `The hypervisor holds ${pending.join(', ')} as pending until the VM restarts; bootplane does not restart it (spec.disruptiveChanges: Pending).` };
  }
  return { type: 'RestartRequired', status: 'False', reason: 'NoPendingChanges', message: 'Every change is active.' };
}

/**
 * Ready: the VM is found, its media and boot order match the spec, it is installed (when the spec
 * has an install), and nothing waits for a restart. A VM still installing is not ready: that is
 * what spec.teardown of another VM counts on.
 */
export function readyCondition(conditions: readonly Condition[]): ConditionUpdate {
  for (const type of ['HypervisorReady', 'VmFound', 'MediaConfigured', 'CloudInitConfigured', 'DisksConfigured', 'Installed']) {
    const c = conditions.find((x) => x.type === type);
    if (c && c.status !== 'True') return { type: 'Ready', status: c.status === 'Unknown' ? 'Unknown' : 'False', reason: c.reason, message: c.message };
  }
  const restart = conditions.find((c) => c.type === 'RestartRequired');
  if (restart?.status === 'True') return { type: 'Ready', status: 'False', reason: 'RestartRequired', message: restart.message };
  return { type: 'Ready', status: 'True', reason: 'Converged', message: 'The VM matches its spec.' };
}

/**
 * A cloud-init move on a VM that is not stopped, described, or undefined. Proxmox keeps one
 * cloud-init drive per VM and cannot stage a second while the first waits as a pending removal,
 * so such a move half-applies on a running VM; bootplane waits for the VM to be off instead.
 */
export function relocationNeedingPowerOff(observed: ObservedVm, steps: readonly Step[]): string | undefined {
  if (observed.power === 'Stopped') return undefined;
  const from = steps.find((s) => s.op === 'removeCloudInit');
  const to = steps.find((s) => s.op === 'createCloudInit');
  if (!from || !to || !('slot' in from) || !('slot' in to)) return undefined;
  return `Moving the cloud-init drive from ${from.slot} to ${to.slot} needs the VM powered off (a running VM cannot hold the new drive while the old one waits for removal); nothing was changed. Power the VM off, or leave spec.cloudInit.placement at keep.`;
}
