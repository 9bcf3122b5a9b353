// What makes boot objects reconcile: an assignment's own changes, its profile's changes and its
// VirtualMachine's changes (MACs); a profile's own changes and assignments coming, going or
// switching profile (the count in its status).
import { ASSIGNMENT_MAC_INDEX, ASSIGNMENT_PROFILE_INDEX, ASSIGNMENT_VM_INDEX, assignmentMacs, assignmentProfile } from '../../boot/indexes.js';
import type { ObjectSource } from '../../kube/source.js';
import { keyOf } from '../../kube/object.js';

export function watchBootObjects(
  enqueueAssignment: (key: string) => void,
  enqueueProfile: (key: string) => void,
  assignments: ObjectSource,
  profiles: ObjectSource,
  vms: ObjectSource,
): void {
  assignments.on((event, obj, old) => {
    enqueueAssignment(keyOf(obj));
    if (event === 'resync') return;
    for (const key of new Set([...assignmentProfile(obj), ...(old ? assignmentProfile(old) : [])])) enqueueProfile(key);
    // Assignments sharing a MAC report the conflict, and its end.
    for (const mac of new Set([...assignmentMacs(obj), ...(old ? assignmentMacs(old) : [])])) {
      for (const other of assignments.cache.byIndex(ASSIGNMENT_MAC_INDEX, mac)) if (keyOf(other) !== keyOf(obj)) enqueueAssignment(keyOf(other));
    }
  });
  profiles.on((event, obj) => {
    enqueueProfile(keyOf(obj));
    if (event === 'resync') return;
    for (const a of assignments.cache.byIndex(ASSIGNMENT_PROFILE_INDEX, keyOf(obj))) enqueueAssignment(keyOf(a));
  });
  vms.on((event, obj) => {
    if (event === 'resync') return;
    for (const a of assignments.cache.byIndex(ASSIGNMENT_VM_INDEX, keyOf(obj))) enqueueAssignment(keyOf(a));
  });
}
