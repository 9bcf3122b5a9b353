// What makes a VirtualMachine reconcile: its own changes, changes to its IsoAttachments (a new
// source is ready, one is ejected or deleted), its NodeBootAssignments (network first while one
// is active), and its Hypervisor's (connection or safe mode).
import type { ObjectSource } from '../../kube/source.js';
import { keyOf, onlyStatusChanged, type KubeObject } from '../../kube/object.js';
import type { ResourceStore } from '../../store/store.js';
import { HYPERVISOR_INDEX } from '../hypervisor/reconciler.js';
import { assignmentVm } from '../../boot/indexes.js';
import { readinessChanged, teardownWaiters } from './teardown.js';
import { plannedVolume, type VerifiedSources } from './status.js';
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';

export const VM_INDEX = 'virtualMachine';

/** Index IsoAttachments by the VM key they attach to (namespace/name). */
export function vmOfAttachment(obj: KubeObject): string[] {
  const name = (obj.spec as { vmRef?: { name?: string } } | undefined)?.vmRef?.name;
  return name && obj.metadata.namespace ? [`${obj.metadata.namespace}/${name}`] : [];
}

/**
 * What the VirtualMachine reconciler reads of an IsoAttachment: its spec (generation), whether
 * it is going, and the volume it may attach (status.ts plannedVolume: from status, or verified
 * in this process a moment ago — the status write that then catches up with it is no news).
 * Raw status.slot and status.volume only where the VM still reads them: a VM without its own
 * record seeds it from them (iso-record.ts), and an install watches for the installer's volume
 * (install.ts).
 */
export function attachmentAsVmSeesIt(iso: KubeObject, vm?: KubeObject, verified?: VerifiedSources): string {
  const status = iso.status as { volume?: string; slot?: string } | undefined;
  const vmStatus = vm?.status as { attachedIsos?: unknown } | undefined;
  const installing = (vm?.spec as { install?: unknown } | undefined)?.install !== undefined;
  return JSON.stringify([
    iso.metadata.generation, iso.metadata.deletionTimestamp, (iso.spec as IsoAttachment['spec'] | undefined)?.source ? plannedVolume(iso as IsoAttachment, verified) : undefined,
    vmStatus?.attachedIsos === undefined ? [status?.slot, status?.volume] : undefined,
    installing ? status?.volume : undefined,
  ]);
}

/** `verified`: this term's named volumes verified in this process (isoattachment/verified-sources.ts). */
export function watchVirtualMachines(enqueue: (key: string) => void, store: ResourceStore, vms: ObjectSource, attachments: ObjectSource, hypervisors: ObjectSource, assignments: ObjectSource, verified: () => VerifiedSources | undefined = () => undefined): void {
  // An assignment that names a VM decides whether it boots from the network first.
  assignments.on((event, obj, old) => {
    if (event === 'resync') return;
    for (const key of new Set([...assignmentVm(obj), ...(old ? assignmentVm(old) : [])])) enqueue(key);
  });
  vms.on((event, obj, old) => {
    // A VM becoming Ready (or not) may end another's role (spec.teardown).
    if (event !== 'resync' && readinessChanged(old, obj)) for (const key of teardownWaiters(store, obj)) enqueue(key);
    if (event === 'update' && onlyStatusChanged(old, obj)) return; // our own status write
    enqueue(keyOf(obj));
  });
  attachments.on((event, obj, old) => {
    if (event === 'resync') return; // the VM's own resync already brings it back
    // An IsoAttachment's status moves on every pass of its own controller; the VM plans only
    // with what attachmentAsVmSeesIt returns, and each write it ignores is a reconcile and a
    // hypervisor read saved.
    const vmKeys = new Set([...vmOfAttachment(obj), ...(old ? vmOfAttachment(old) : [])]);
    if (event === 'update' && old && vmKeys.size === 1) {
      const vm = store.get('VirtualMachine', [...vmKeys][0]!);
      if (attachmentAsVmSeesIt(old, vm, verified()) === attachmentAsVmSeesIt(obj, vm, verified())) return;
    }
    for (const key of vmKeys) enqueue(key);
  });
  // A Hypervisor's status changes on every inventory; its VMs care only about its spec (safe
  // mode, endpoint, credentials) and whether it is reachable.
  const seen = new Map<string, string>();
  hypervisors.on((event, obj) => {
    const ready = (obj.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.find((c) => c.type === 'Ready')?.status;
    const signature = `${obj.metadata.generation ?? 0}/${ready ?? '-'}`;
    if (event === 'delete') seen.delete(obj.metadata.name);
    else if (seen.get(obj.metadata.name) === signature) return;
    else seen.set(obj.metadata.name, signature);
    for (const vm of store.byIndex('VirtualMachine', HYPERVISOR_INDEX, obj.metadata.name)) enqueue(keyOf(vm));
  });
}
