// What makes an IsoAttachment reconcile: its own changes, and its VM's (the VM reconciler
// attached or detached it, or the install finished and the eject policy applies).
import type { ObjectSource } from '../../kube/source.js';
import { keyOf } from '../../kube/object.js';
import type { ResourceStore } from '../../store/store.js';
import { VM_INDEX } from '../virtualmachine/watches.js';

export function watchIsoAttachments(enqueue: (key: string) => void, store: ResourceStore, attachments: ObjectSource, vms: ObjectSource): void {
  attachments.on((_event, obj) => enqueue(keyOf(obj)));
  vms.on((_event, obj) => {
    for (const iso of store.byIndex('IsoAttachment', VM_INDEX, keyOf(obj))) enqueue(keyOf(iso));
  });
}
