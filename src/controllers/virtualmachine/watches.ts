// What makes a VirtualMachine reconcile: its own changes, changes to its IsoAttachments (a new
// source is ready, one is ejected or deleted), its NodeBootAssignments (network first while one
// is active), and its Hypervisor's (connection or safe mode).
import type { ObjectSource } from '../../kube/source.js';
import { keyOf, onlyStatusChanged, type KubeObject } from '../../kube/object.js';
import type { ResourceStore } from '../../store/store.js';
import { HYPERVISOR_INDEX } from '../hypervisor/reconciler.js';
import { assignmentVm } from '../../boot/indexes.js';
import { readinessChanged, teardownWaiters } from './teardown.js';

export const VM_INDEX = 'virtualMachine';

/** Index IsoAttachments by the VM key they attach to (namespace/name). */
export function vmOfAttachment(obj: KubeObject): string[] {
  const name = (obj.spec as { vmRef?: { name?: string } } | undefined)?.vmRef?.name;
  return name && obj.metadata.namespace ? [`${obj.metadata.namespace}/${name}`] : [];
}

/**
 * What the VirtualMachine reconciler reads of an IsoAttachment: its spec (generation), whether
 * it is going, and the source and slot its status records (status.ts desiredMedia, sourceReady).
 */
export function attachmentAsVmSeesIt(iso: KubeObject): string {
  const status = iso.status as { volume?: string; slot?: string; conditions?: { type: string; status: string }[] } | undefined;
  const sourceReady = status?.conditions?.find((c) => c.type === 'SourceReady')?.status;
  return JSON.stringify([iso.metadata.generation, iso.metadata.deletionTimestamp, status?.volume, status?.slot, sourceReady]);
}

export function watchVirtualMachines(enqueue: (key: string) => void, store: ResourceStore, vms: ObjectSource, attachments: ObjectSource, hypervisors: ObjectSource, assignments: ObjectSource): void {
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
    if (event === 'update' && old && attachmentAsVmSeesIt(old) === attachmentAsVmSeesIt(obj)) return;
    for (const key of new Set([...vmOfAttachment(obj), ...(old ? vmOfAttachment(old) : [])])) enqueue(key);
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
