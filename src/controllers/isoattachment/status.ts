// Pure decisions of the IsoAttachment controller: the file name a URL downloads to, where the
// VM says the ISO sits, and the phase and Ready that follow.
import type { Condition } from '../../api/v1alpha1/common.js';
import type { IsoAttachment, IsoAttachmentStatus } from '../../api/v1alpha1/iso-attachment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import { keyOf } from '../../kube/object.js';

/** spec.source.filename, else the URL's last path segment (with .iso added when missing). */
export function downloadFilename(iso: IsoAttachment): string {
  if (iso.spec.source.filename) return iso.spec.source.filename;
  const last = decodeURIComponent(new URL(iso.spec.source.url!).pathname.split('/').filter(Boolean).at(-1) ?? 'download');
  return /\.(iso|img)$/i.test(last) ? last : `${last}.iso`;
}

/** The slot the VM reports this volume at (a CD-ROM holding it), if any. */
export function attachedSlot(vm: VirtualMachine | undefined, volume: string | undefined): string | undefined {
  if (!vm || !volume) return undefined;
  return vm.status?.devices?.find((d) => d.kind === 'cdrom' && d.volume === volume)?.slot;
}

/** The VM's refusal of this ISO's request, when its plan named it. */
export function refusalFor(iso: IsoAttachment, vm: VirtualMachine | undefined): string | undefined {
  const media = vm?.status?.conditions?.find((c) => c.type === 'MediaConfigured');
  return media?.status === 'False' && media.reason === 'PlanRefused' && media.message.includes(keyOf(iso)) ? media.message : undefined;
}

export function attachedCondition(iso: IsoAttachment, vm: VirtualMachine, slot: string | undefined, ejected: boolean): { condition: ConditionUpdate; phase: IsoAttachmentStatus['phase'] } {
  if (ejected) {
    return slot
      ? { phase: 'Attached', condition: { type: 'Attached', status: 'True', reason: 'Ejecting', message: `The install is done; ${iso.status?.volume} is being ejected from ${slot} (ejectPolicy AfterInstall).` } }
      : { phase: 'Ejected', condition: { type: 'Attached', status: 'False', reason: 'Ejected', message: 'Ejected after the install completed (ejectPolicy AfterInstall).' } };
  }
  if (slot) return { phase: 'Attached', condition: { type: 'Attached', status: 'True', reason: 'Attached', message: `${iso.status?.volume} is attached at ${slot} of VirtualMachine ${vm.metadata.name}.` } };
  const refusal = refusalFor(iso, vm);
  if (refusal) return { phase: 'Failed', condition: { type: 'Attached', status: 'False', reason: 'PlanRefused', message: refusal } };
  const media = vm.status?.conditions?.find((c) => c.type === 'MediaConfigured');
  const why = media && media.status !== 'True' ? ` (VirtualMachine ${vm.metadata.name}: ${media.reason}: ${media.message})` : '';
  return { phase: 'Attaching', condition: { type: 'Attached', status: 'False', reason: media?.reason === 'SafeMode' ? 'SafeMode' : 'Attaching', message: `Waiting for VirtualMachine ${vm.metadata.name} to attach it${why}.` } };
}

/**
 * Whether a new IsoAttachment's status can stay unwritten for now: nothing has been written yet,
 * its source is good (the caller only asks then), the VM does not show it yet, and nothing is
 * wrong — the VM has not refused, is not waiting (safe mode, power-off) and has not failed to
 * apply (its MediaConfigured is not False). The VM's next status write says what happened, and
 * the attachment's single status write follows it. Anything else is written at once.
 */
export function awaitsFirstAttach(iso: IsoAttachment, vm: VirtualMachine, attached: { condition: ConditionUpdate; phase: IsoAttachmentStatus['phase'] }): boolean {
  if (iso.status?.phase !== undefined) return false;
  if (attached.phase !== 'Attaching' || attached.condition.reason !== 'Attaching') return false;
  return vm.status?.conditions?.find((c) => c.type === 'MediaConfigured')?.status !== 'False';
}

export function readyCondition(conditions: readonly Condition[]): ConditionUpdate {
  for (const type of ['VmFound', 'HypervisorReady', 'SourceReady', 'Attached']) {
    const c = conditions.find((x) => x.type === type);
    if (c && c.status !== 'True' && !(type === 'Attached' && c.reason === 'Ejected')) return { type: 'Ready', status: c.status === 'Unknown' ? 'Unknown' : 'False', reason: c.reason, message: c.message };
  }
  return { type: 'Ready', status: 'True', reason: 'Ready', message: 'The ISO is where its spec wants it.' };
}
