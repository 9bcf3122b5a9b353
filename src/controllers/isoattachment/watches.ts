// What makes an IsoAttachment reconcile: its own changes, and its VM's (the VM reconciler
// attached or detached it, or the install finished and the eject policy applies).
import type { ObjectSource } from '../../kube/source.js';
import { keyOf, onlyStatusChanged } from '../../kube/object.js';
import type { ResourceStore } from '../../store/store.js';
import { VM_INDEX } from '../virtualmachine/watches.js';

export function watchIsoAttachments(enqueue: (key: string) => void, store: ResourceStore, attachments: ObjectSource, vms: ObjectSource): void {
  attachments.on((event, obj, old) => {
    if (event === 'update' && onlyStatusChanged(old, obj)) return; // our own status write
    enqueue(keyOf(obj));
  });
  vms.on((event, obj) => {
    if (event === 'resync') return; // each IsoAttachment has its own resync
    for (const iso of store.byIndex('IsoAttachment', VM_INDEX, keyOf(obj))) enqueue(keyOf(iso));
  });
}
