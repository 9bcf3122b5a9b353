// What makes a Hypervisor reconcile: its own changes, and VirtualMachines that reference it
// going away (a blocked deletion may now proceed).
import type { ObjectSource } from '../../kube/source.js';
import type { KubeObject } from '../../kube/object.js';
import { keyOf } from '../../kube/object.js';

export function watchHypervisors(enqueue: (key: string) => void, hypervisors: ObjectSource, vms: ObjectSource): void {
  hypervisors.on((_event, obj) => enqueue(keyOf(obj)));
  vms.on((event, obj) => {
    if (event !== 'delete') return;
    const ref = (obj.spec as { hypervisorRef?: { name?: string } } | undefined)?.hypervisorRef?.name;
    if (ref) enqueue(ref);
  });
}

export function hypervisorOfVm(obj: KubeObject): string[] {
  const ref = (obj.spec as { hypervisorRef?: { name?: string } } | undefined)?.hypervisorRef?.name;
  return ref ? [ref] : [];
}
