// Releases the finalizer older bootplane versions put on every IsoAttachment
// (bootplane.io/finalizer). IsoAttachments have no finalizer any more: the VirtualMachine records
// what it attached (status.attachedIsos, virtualmachine/iso-record.ts) and takes it out itself
// when the IsoAttachment is gone. An object created before the upgrade still carries the old
// finalizer, and nothing else would ever remove it, so its deletion would hang forever.
//
// When it is released:
// - the object is being deleted: once its VM no longer shows the ISO at the slot its status
//   recorded (the VM reconciler detaches it, from its record or — a VM not written since the
//   upgrade — from this object's status, which is still readable while the finalizer holds it),
//   or at once when there is no VM, the VM is going too and its hypervisor is unreachable (the
//   VM's own finalizer logic decides then), or nothing was recorded;
// - otherwise: as soon as the VM's own record exists (the VM has seeded it from this object's
//   status, so deleting this object later orphans nothing), or when the VM does not hold the
//   ISO at all.
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import { FINALIZER, hasFinalizer } from '../../kube/finalizers.js';
import type { ResourceStore } from '../../store/store.js';
import { attachedSlot } from './status.js';

export const LEGACY_FINALIZER = FINALIZER;
const DETACH_POLL_MS = 5_000;
const RECORD_POLL_MS = 30_000;

export function hasLegacyFinalizer(iso: IsoAttachment): boolean {
  return hasFinalizer(iso, LEGACY_FINALIZER);
}

/** What to do with the old finalizer now: keep it (and look again later) or remove it. */
export function legacyFinalizerDecision(iso: IsoAttachment, vm: VirtualMachine | undefined): 'release' | 'wait' {
  const slot = iso.status?.slot;
  const holds = slot !== undefined && attachedSlot(vm, iso.status?.volume) === slot;
  if (!vm || !holds) return 'release';
  if (iso.metadata.deletionTimestamp) {
    if (!vm.metadata.deletionTimestamp) return 'wait';
    // The VM object is going too: its finalizer hands the ISO back while its hypervisor answers.
    return vm.status?.conditions?.find((c) => c.type === 'HypervisorReady')?.status === 'True' ? 'wait' : 'release';
  }
  return vm.status?.attachedIsos !== undefined ? 'release' : 'wait';
}

/**
 * Removes the old finalizer when its time has come, and wakes the VM either way (to detach, or
 * to write its record). Returns the delay to look again after while it stays.
 */
export async function releaseLegacyFinalizer(store: ResourceStore, iso: IsoAttachment, vm: VirtualMachine | undefined, enqueueVm: () => void): Promise<number | undefined> {
  enqueueVm();
  if (legacyFinalizerDecision(iso, vm) === 'wait') return iso.metadata.deletionTimestamp ? DETACH_POLL_MS : RECORD_POLL_MS;
  await store.removeFinalizer('IsoAttachment', iso);
  return undefined;
}
