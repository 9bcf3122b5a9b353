// What makes an IsoAttachment reconcile: its own changes, and its VM's (the VM reconciler
// attached or detached it, or the install finished and the eject policy applies).
import type { ObjectSource } from '../../kube/source.js';
import type { VirtualMachineStatus } from '../../api/v1alpha1/virtual-machine.js';
import { keyOf, onlyStatusChanged, type KubeObject } from '../../kube/object.js';
import type { ResourceStore } from '../../store/store.js';
import { VM_INDEX } from '../virtualmachine/watches.js';

export function watchIsoAttachments(enqueue: (key: string) => void, store: ResourceStore, attachments: ObjectSource, vms: ObjectSource): void {
  attachments.on((event, obj, old) => {
    if (event === 'update' && onlyStatusChanged(old, obj)) return; // our own status write
    enqueue(keyOf(obj));
  });
  vms.on((event, obj, old) => {
    if (event === 'resync') return; // each IsoAttachment has its own resync
    // The VM's status is written on most of its passes (the change record, observed power and
    // disks); its IsoAttachments care only about what vmAsAttachmentsSeeIt returns.
    if (event === 'update' && old && vmAsAttachmentsSeeIt(old) === vmAsAttachmentsSeeIt(obj)) return;
    for (const iso of store.byIndex('IsoAttachment', VM_INDEX, keyOf(obj))) enqueue(keyOf(iso));
  });
}

/**
 * What the IsoAttachment reconciler reads of its VM (status.ts and reconciler.ts): the spec
 * (generation), whether it is going, the CD-ROMs it reports, the install state (eject policy),
 * MediaConfigured (a refusal or wait is quoted in the attachment's condition) and whether the
 * hypervisor is reachable (deletion waits for the detach only then).
 */
export function vmAsAttachmentsSeeIt(vm: KubeObject): string {
  const status = vm.status as VirtualMachineStatus | undefined;
  const condition = (type: string) => status?.conditions?.find((c) => c.type === type);
  const media = condition('MediaConfigured');
  return JSON.stringify([
    vm.metadata.generation, vm.metadata.deletionTimestamp,
    status?.devices?.filter((d) => d.kind === 'cdrom').map((d) => `${d.slot}=${d.volume ?? ''}`),
    status?.install?.state,
    media ? [media.status, media.reason, media.message] : undefined,
    condition('HypervisorReady')?.status,
  ]);
}
