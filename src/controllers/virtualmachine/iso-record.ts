// The VM's own record of the ISOs bootplane attached to it (status.attachedIsos), which is what
// makes an IsoAttachment finalizer unnecessary: when an IsoAttachment is deleted (the object
// goes at once), ejected, or wants another volume, and when the VM itself is deleted, the VM
// reconciler takes out what this record says it attached for that name — only a CD-ROM still
// holding exactly the recorded volume at the recorded slot (the planner checks that; a disk is
// never detached) — and nothing else.
//
// The record is written with the VM's ordinary status writes, never on its own:
// - before a change, in the same write as status.operation, it already names the ISOs the plan
//   is about to attach (write-ahead: a crash after the hypervisor took the change cannot leave
//   an ISO nobody owns);
// - after the pass, it is trimmed to what the VM as read last actually holds.
// A VM written by an older bootplane has no record yet: it is seeded from its IsoAttachments'
// status.slot and status.volume (what the older IsoAttachment finalizer handed back), so
// nothing attached before the upgrade is orphaned.
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import type { VirtualMachine, VirtualMachineStatus } from '../../api/v1alpha1/virtual-machine.js';
import { byCodeUnits } from '../../order.js';
import type { DesiredMedia, ObservedVm, Plan } from '../../planning/model.js';

export type AttachedIso = NonNullable<VirtualMachineStatus['attachedIsos']>[number];

/** The VM's record, or for a VM that has none yet, the one its IsoAttachments' status implies. */
export function isoRecord(vm: VirtualMachine, attachments: readonly IsoAttachment[]): AttachedIso[] {
  if (vm.status?.attachedIsos) return vm.status.attachedIsos;
  const seeded: AttachedIso[] = [];
  for (const iso of attachments) {
    if (iso.status?.slot && iso.status.volume) seeded.push({ name: iso.metadata.name, volume: iso.status.volume, slot: iso.status.slot });
  }
  return seeded;
}

/** What the plan puts (or keeps) in place for each IsoAttachment it was asked for. */
export function plannedEntries(desired: DesiredMedia, plan: Plan): AttachedIso[] {
  const entries: AttachedIso[] = [];
  for (const iso of desired.isos) {
    const slot = plan.isoSlots[iso.id];
    if (slot !== undefined) entries.push({ name: nameOf(iso.id), volume: iso.volume, slot });
  }
  return entries;
}

/**
 * The record to write with status.operation, before the plan is applied: everything recorded so
 * far and everything the plan places. An entry for an attach that then fails is harmless (an
 * eject of a medium that is not there is no step) and goes with the next trim.
 */
export function recordAhead(record: readonly AttachedIso[], planned: readonly AttachedIso[]): AttachedIso[] {
  return merge(record, planned);
}

/**
 * The record after a pass: of what was recorded and what the plan placed, the entries the VM
 * as read last shows (a CD-ROM at the slot holding the volume). One entry per slot; where two
 * names recorded the same medium, the one the plan placed there now keeps it.
 */
export function recordAfter(record: readonly AttachedIso[], planned: readonly AttachedIso[], observed: ObservedVm): AttachedIso[] {
  const holds = (e: AttachedIso) => observed.devices.some((d) => d.slot === e.slot && d.kind === 'cdrom' && d.volume === e.volume);
  const bySlot = new Map<string, AttachedIso>();
  for (const e of planned) if (holds(e) && !bySlot.has(e.slot)) bySlot.set(e.slot, e);
  for (const e of record) if (holds(e) && !bySlot.has(e.slot)) bySlot.set(e.slot, e);
  return [...bySlot.values()].sort(compare).slice(0, 64);
}

function merge(a: readonly AttachedIso[], b: readonly AttachedIso[]): AttachedIso[] {
  const seen = new Map<string, AttachedIso>();
  for (const e of [...a, ...b]) seen.set(`${e.name}\u0000${e.slot}\u0000${e.volume}`, e);
  return [...seen.values()].sort(compare).slice(0, 64);
}

function compare(x: AttachedIso, y: AttachedIso): number {
  return byCodeUnits(x.slot, y.slot) || byCodeUnits(x.name, y.name);
}

/** The IsoAttachment name of a DesiredIso id (namespace/name). */
function nameOf(id: string): string {
  return id.slice(id.indexOf('/') + 1);
}
