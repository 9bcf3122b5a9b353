// The planner's entry point: given what a VM has now and what the spec asks for, the device
// layout, boot order and ordered steps (each invertible) to get there. Pure: no I/O, no clock.
//
// The order of the steps is what PVE needs: a device leaves the boot order before it is deleted
// (PVE refuses to delete a boot device), ejected ISOs and the old cloud-init drive go before the
// new cloud-init drive is created (PVE refuses a second cloud-init drive, even one pending
// deletion), new media come next, then the final boot order, then the cloud-init image is
// regenerated. Disks are never the subject of a step.
import type { Bus, DesiredIso, DesiredMedia, Device, ObservedVm, Plan, Slot, Step } from './model.js';
import { PlanRefused } from './model.js';
import { planBootOrder } from './boot-order.js';
import { detectOsFamily } from './os-detection.js';
import { cloudInitBusesFor, isoBusesFor, OS_PROFILES } from './os-profiles.js';
import { busOf, compareSlots, machineHasBus, mediaSlotsOnMachine, removableSlotProblem } from './slots.js';

const BOOTABLE_PURPOSES = new Set(['installer', 'rescue']);

/** The working state of one planning run. */
class Layout {
  readonly devices: Map<Slot, Device>;
  /** Slots this plan has promised to an ISO or the cloud-init drive. */
  readonly claimed = new Map<Slot, string>();

  constructor(devices: Device[]) {
    this.devices = new Map(devices.map((d) => [d.slot, { ...d }]));
  }

  at(slot: Slot): Device | undefined {
    return this.devices.get(slot);
  }

  isClaimed(slot: Slot): boolean {
    return this.claimed.has(slot);
  }

  /** Nothing there and nobody promised it. */
  isFree(slot: Slot): boolean {
    return !this.devices.has(slot) && !this.claimed.has(slot);
  }

  isEmptyCdrom(slot: Slot): boolean {
    const d = this.devices.get(slot);
    return !this.claimed.has(slot) && d?.kind === 'cdrom' && d.volume === undefined;
  }

  describe(slot: Slot): string {
    const d = this.devices.get(slot);
    if (!d) return `${slot} (free)`;
    if (d.kind === 'cdrom') return `${slot} (CD-ROM ${d.volume ?? 'empty'})`;
    if (d.kind === 'cloudinit') return `${slot} (cloud-init drive)`;
    return d.volume === undefined ? `${slot} (disk)` : `${slot} (disk ${d.volume})`;
  }
}

function candidateSlots(buses: Bus[], vm: ObservedVm): Slot[] {
  return buses.flatMap((bus) => mediaSlotsOnMachine(vm.machine, bus));
}

function validateRequest(desired: DesiredMedia): void {
  const ids = new Set<string>();
  // ISOs are matched to what the VM has by volume, so one volume attached twice would have no
  // stable identity (and serves no purpose).
  const volumes = new Map<string, string>();
  for (const iso of desired.isos) {
    if (ids.has(iso.id)) throw new PlanRefused(`ISO ${iso.id} is asked for twice`, iso.id);
    ids.add(iso.id);
    if (iso.volume.trim() === '') throw new PlanRefused(`ISO ${iso.id} has no volume`, iso.id);
    const other = volumes.get(iso.volume);
    if (other !== undefined) throw new PlanRefused(`ISO ${iso.id}: ${iso.volume} is already attached for ISO ${other}; attach it once`, iso.id);
    volumes.set(iso.volume, iso.id);
  }
}

interface Steps {
  detaches: Step[];
  cloudInitRemove?: Extract<Step, { op: 'removeCloudInit' }>;
  cloudInitCreate?: Extract<Step, { op: 'createCloudInit' }>;
  attaches: Step[];
}

export function planMedia(observed: ObservedVm, desired: DesiredMedia): Plan {
  validateRequest(desired);
  const os = detectOsFamily(observed, desired.osFamily);
  const profile = OS_PROFILES[os.family];
  const layout = new Layout(observed.devices);
  const warnings: string[] = [];
  const steps: Steps = { detaches: [], attaches: [] };
  const isoSlots: Record<string, Slot> = {};
  const removedSlots = new Set<Slot>();

  // 1. ISOs already where the spec wants them stay put: an explicit slot must match, an auto
  //    one may be anywhere. This is what makes a steady-state plan empty.
  const pending: DesiredIso[] = [];
  for (const iso of [...desired.isos].sort((a, b) => Number(a.slot === 'auto') - Number(b.slot === 'auto'))) {
    const match = iso.slot !== 'auto'
      ? (layout.at(iso.slot)?.kind === 'cdrom' && layout.at(iso.slot)?.volume === iso.volume && !layout.isClaimed(iso.slot) ? iso.slot : undefined)
      : [...layout.devices.values()].find((d) => d.kind === 'cdrom' && d.volume === iso.volume && !layout.isClaimed(d.slot))?.slot;
    if (match !== undefined) {
      layout.claimed.set(match, iso.id);
      isoSlots[iso.id] = match;
    } else {
      pending.push(iso);
    }
  }

  // 2. Ejects: ISOs the spec no longer wants. Only the exact medium that was attached is taken out.
  for (const eject of desired.eject ?? []) {
    const device = layout.at(eject.slot);
    if (!device || layout.isClaimed(eject.slot) || device.kind !== 'cdrom' || device.volume !== eject.volume) {
      if (device?.kind === 'disk') warnings.push(`eject of ${eject.volume} from ${eject.slot} skipped: the slot now holds a disk, which is never detached`);
      continue;
    }
    steps.detaches.push({ op: 'detachIso', slot: eject.slot, volume: eject.volume });
    layout.devices.delete(eject.slot);
    removedSlots.add(eject.slot);
  }

  // 3. New ISOs: explicit slots first, so that auto ones do not take them.
  let cloudInitMustMove: { neededBy: string } | undefined;
  const cloudInit = [...layout.devices.values()].find((d) => d.kind === 'cloudinit');
  const place = (iso: DesiredIso, slot: Slot) => {
    const occupant = layout.at(slot);
    if (occupant?.kind === 'cdrom') {
      const from = occupant.volume ?? 'none';
      if (occupant.volume !== undefined) warnings.push(`ISO ${iso.id}: ${iso.volume} replaces ${occupant.volume} in ${slot}`);
      steps.attaches.push({ op: 'swapMedia', slot, from, to: iso.volume });
    } else {
      if (occupant?.kind === 'cloudinit') cloudInitMustMove = { neededBy: iso.id };
      steps.attaches.push({ op: 'attachIso', slot, volume: iso.volume });
    }
    layout.claimed.set(slot, iso.id);
    isoSlots[iso.id] = slot;
  };

  for (const iso of pending.filter((i) => i.slot !== 'auto')) {
    const slot = iso.slot;
    const problem = removableSlotProblem(observed.machine, slot);
    if (problem) throw new PlanRefused(`ISO ${iso.id}: ${problem}`, iso.id);
    const holder = layout.claimed.get(slot);
    if (holder !== undefined) throw new PlanRefused(`ISO ${iso.id}: slot ${slot} is already used by ISO ${holder}`, iso.id);
    const occupant = layout.at(slot);
    if (occupant?.kind === 'disk') {
      const what = occupant.volume === undefined ? 'a disk' : `disk ${occupant.volume}`;
      throw new PlanRefused(`ISO ${iso.id}: slot ${slot} holds ${what}; a disk that holds data is never detached — choose another slot or auto`, iso.id);
    }
    // The same ISO elsewhere (its slot was changed in the spec): take it out there.
    const elsewhere = [...layout.devices.values()].find((d) => d.kind === 'cdrom' && d.volume === iso.volume && d.slot !== slot && !layout.isClaimed(d.slot));
    if (elsewhere) {
      steps.detaches.push({ op: 'detachIso', slot: elsewhere.slot, volume: iso.volume });
      layout.devices.delete(elsewhere.slot);
      removedSlots.add(elsewhere.slot);
    }
    place(iso, slot);
  }

  for (const iso of pending.filter((i) => i.slot === 'auto')) {
    const buses = isoBusesFor(profile, iso.purpose, observed.machine);
    const candidates = candidateSlots(buses, observed);
    // Bus by bus in the profile's order: an empty CD-ROM drive first (changing a medium works on
    // a running VM, adding a drive may not), then a free slot. Failing all, the cloud-init
    // drive's slot (the drive moves).
    const slot = buses.map((bus) => candidateSlots([bus], observed)).map((onBus) => onBus.find((s) => layout.isEmptyCdrom(s)) ?? onBus.find((s) => layout.isFree(s))).find((s) => s !== undefined)
      ?? (cloudInitMustMove === undefined ? candidates.find((s) => layout.at(s)?.kind === 'cloudinit' && !layout.isClaimed(s)) : undefined);
    if (slot === undefined) {
      throw new PlanRefused(
        `ISO ${iso.id}: no free slot for a ${os.family} ${iso.purpose} ISO on ${buses.join('/') || 'any bus'} (machine ${observed.machine.machine}); taken: ${candidates.filter((s) => !layout.isFree(s)).map((s) => layout.describe(s)).join(', ')}`,
        iso.id,
      );
    }
    place(iso, slot);
  }

  // 4. The cloud-init drive: kept, created, or relocated.
  let cloudInitSlot = cloudInit?.slot;
  const placement = desired.cloudInit?.placement ?? 'keep';
  const wantedBuses = (): Bus[] => {
    if (placement === 'ide' || placement === 'sata' || placement === 'scsi') {
      if (!machineHasBus(observed.machine, placement)) {
        throw new PlanRefused(`cloud-init placement ${placement}: machine type ${observed.machine.machine} (${observed.machine.arch}) has no ${placement.toUpperCase()} bus`);
      }
      return [placement];
    }
    return cloudInitBusesFor(profile, observed.machine);
  };
  const freeSlotOn = (buses: Bus[]) => candidateSlots(buses, observed).find((s) => layout.isFree(s));

  if (cloudInit === undefined) {
    if (desired.cloudInit !== undefined) {
      if (profile.cloudInit === 'unused') {
        warnings.push(`${os.family} boots with Ignition, not cloud-init: no cloud-init drive is created`);
      } else {
        const buses = wantedBuses();
        const slot = freeSlotOn(buses);
        if (slot === undefined) throw new PlanRefused(`no free slot for the cloud-init drive on ${buses.join('/')}`);
        steps.cloudInitCreate = { op: 'createCloudInit', slot };
        layout.claimed.set(slot, 'cloud-init');
        cloudInitSlot = slot;
      }
    }
  } else {
    let target: Slot | undefined;
    if (cloudInitMustMove !== undefined) {
      const buses = placement === 'keep' ? cloudInitBusesFor(profile, observed.machine) : wantedBuses();
      target = freeSlotOn(buses);
      if (target === undefined) {
        throw new PlanRefused(`ISO ${cloudInitMustMove.neededBy} needs ${cloudInit.slot}, which holds the cloud-init drive, and there is no free slot on ${buses.join('/')} to move it to`, cloudInitMustMove.neededBy);
      }
    } else if (placement !== 'keep') {
      const current = busOf(cloudInit.slot);
      for (const bus of wantedBuses()) {
        if (bus === current) break;
        target = freeSlotOn([bus]);
        if (target !== undefined) break;
      }
      if (target === undefined && !wantedBuses().includes(current as Bus)) {
        throw new PlanRefused(`cloud-init placement ${placement}: no free slot on ${wantedBuses().join('/')} for the cloud-init drive now at ${cloudInit.slot}`);
      }
    }
    if (profile.cloudInit === 'unused') warnings.push(`${os.family} boots with Ignition: the cloud-init drive at ${target ?? cloudInit.slot} is not used`);
    if (target !== undefined) {
      steps.cloudInitRemove = { op: 'removeCloudInit', slot: cloudInit.slot };
      steps.cloudInitCreate = { op: 'createCloudInit', slot: target };
      removedSlots.add(cloudInit.slot);
      layout.claimed.set(target, 'cloud-init');
      cloudInitSlot = target;
      if (observed.power === 'Running') {
        warnings.push(`moving the cloud-init drive from ${cloudInit.slot} to ${target} needs the VM stopped: PVE keeps the removal pending while it runs and refuses a second cloud-init drive until then`);
      }
    }
  }

  // 5. The layout after the steps.
  const after = new Map(layout.devices);
  if (steps.cloudInitRemove) after.delete(steps.cloudInitRemove.slot);
  // A new cloud-init volume is allocated by the hypervisor: its name is known only afterwards.
  if (steps.cloudInitCreate) after.set(steps.cloudInitCreate.slot, { slot: steps.cloudInitCreate.slot, kind: 'cloudinit' });
  for (const step of steps.attaches) {
    if (step.op === 'attachIso') after.set(step.slot, { slot: step.slot, kind: 'cdrom', volume: step.volume });
    if (step.op === 'swapMedia') after.set(step.slot, { slot: step.slot, kind: 'cdrom', volume: step.to });
  }
  const devices = [...after.values()].sort((a, b) => compareSlots(a.slot, b.slot));

  // 6. Boot order: devices leave it before they are removed, the final order comes last.
  const boot = planBootOrder({
    current: observed.bootOrder,
    devices,
    nics: observed.nics,
    bootableIsos: desired.isos
      .filter((i) => BOOTABLE_PURPOSES.has(i.purpose) && isoSlots[i.id] !== undefined)
      .map((i) => ({ slot: isoSlots[i.id] as Slot, primary: i.primaryBoot })),
    desired,
  });
  warnings.push(...boot.warnings);
  for (const iso of desired.isos) {
    if (iso.primaryBoot && !BOOTABLE_PURPOSES.has(iso.purpose)) warnings.push(`ISO ${iso.id}: primaryBoot is ignored for a ${iso.purpose} ISO`);
  }
  const ordered: Step[] = [];
  let order = observed.bootOrder;
  if (order.some((s) => removedSlots.has(s))) {
    // When the final order names only devices that are already there, it can go first in one
    // step; otherwise an interim order without the leaving devices does.
    const present = new Set([...observed.devices.map((d) => d.slot), ...observed.nics.map((n) => n.slot)]);
    const finalFirst = boot.order.every((s) => present.has(s) && !removedSlots.has(s));
    const interim = finalFirst ? boot.order : order.filter((s) => !removedSlots.has(s));
    ordered.push({ op: 'setBootOrder', order: interim, previous: order });
    order = interim;
  }
  ordered.push(...steps.detaches);
  if (steps.cloudInitRemove) ordered.push(steps.cloudInitRemove);
  if (steps.cloudInitCreate) ordered.push(steps.cloudInitCreate);
  ordered.push(...steps.attaches);
  if (boot.order.join(';') !== order.join(';')) ordered.push({ op: 'setBootOrder', order: boot.order, previous: order });
  if (steps.cloudInitCreate) ordered.push({ op: 'regenerateCloudInit' });

  if (observed.power === 'Running' && ordered.some((s) => (s.op === 'attachIso' || s.op === 'detachIso') && /^(ide|sata)/.test(s.slot))) {
    warnings.push('the VM is running: adding or removing IDE/SATA drives takes effect at the next start (PVE keeps them pending); changing a medium is live');
  }

  const plan: Plan = {
    devices,
    bootOrder: boot.order,
    steps: ordered,
    warnings,
    isoSlots,
    osFamily: os.family,
    osFamilySource: os.source,
  };
  if (cloudInitSlot !== undefined) plan.cloudInitSlot = cloudInitSlot;
  return plan;
}
