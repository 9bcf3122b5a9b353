// Properties over random VMs and random requests: a plan never moves, detaches or deletes a disk;
// its steps are valid one after another (one cloud-init drive at a time, nothing leaves the VM
// while it is in the boot order, the boot order only names devices that exist); applying them
// gives the plan's layout, rolling them back gives the VM back, and re-planning plans nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OsFamily } from '../api/v1alpha1/virtual-machine.js';
import type { DesiredMedia, Device, MachineFacts, ObservedVm, Slot, Step } from './model.js';
import { PlanRefused } from './model.js';
import { planMedia } from './plan-media.js';
import { rollbackSteps } from './steps.js';

const MACHINES: MachineFacts[] = [
  { machine: 'pc', arch: 'x86_64', firmware: 'bios' },
  { machine: 'pc', arch: 'x86_64', firmware: 'uefi' },
  { machine: 'q35', arch: 'x86_64', firmware: 'bios' },
  { machine: 'q35', arch: 'x86_64', firmware: 'uefi' },
  { machine: 'virt', arch: 'aarch64', firmware: 'uefi' },
];
const IDE = ['ide0', 'ide1', 'ide2', 'ide3'];
const SATA = ['sata0', 'sata1', 'sata2', 'sata3', 'sata4', 'sata5'];
const SCSI = Array.from({ length: 31 }, (_, i) => `scsi${i}`);
// Few SCSI slots in play, so that buses fill up and the planner has to relocate or refuse.
const SLOTS = [...IDE, ...SATA, ...SCSI.slice(0, 4), 'virtio0', 'virtio1'];
const ISOS = ['local:iso/a.iso', 'local:iso/b.iso', 'nfs:iso/c.iso', 'local:iso/d.iso'];
const NAMES = ['vm-1', 'debian-12', 'ubuntu-web', 'rocky-db', 'fedora-ws', 'fcos-0', 'okd-master', 'win2022', 'talos-cp'];

function slotsOn(machine: MachineFacts): Slot[] {
  return SLOTS.filter((s) => !s.startsWith('ide') || (machine.machine === 'pc' ? true : machine.machine === 'q35' ? s === 'ide0' || s === 'ide2' : false));
}

const arbVm: fc.Arbitrary<ObservedVm> = fc.constantFrom(...MACHINES).chain((machine) =>
  fc.record({
    machine: fc.constant(machine),
    name: fc.constantFrom(...NAMES),
    ostype: fc.constantFrom(undefined, 'l26', 'win11', 'other'),
    used: fc.subarray(slotsOn(machine), { maxLength: Math.min(14, slotsOn(machine).length) }),
    kinds: fc.array(fc.constantFrom('disk', 'disk', 'cdrom', 'emptycdrom'), { minLength: 14, maxLength: 14 }),
    cloudInitAt: fc.nat(20),
    isoPick: fc.array(fc.constantFrom(...ISOS), { minLength: 14, maxLength: 14 }),
    bootPick: fc.array(fc.boolean(), { minLength: 15, maxLength: 15 }),
    power: fc.constantFrom('Running', 'Stopped') as fc.Arbitrary<ObservedVm['power']>,
  }).map(({ machine, name, ostype, used, kinds, cloudInitAt, isoPick, bootPick, power }) => {
    const devices: Device[] = used.map((slot, i) => {
      if (i === cloudInitAt && !slot.startsWith('virtio')) return { slot, kind: 'cloudinit', volume: 'local-lvm:vm-1-cloudinit' };
      const kind = slot.startsWith('virtio') ? 'disk' : kinds[i];
      if (kind === 'disk') return { slot, kind: 'disk', volume: `local-lvm:vm-1-disk-${i}` };
      if (kind === 'cdrom') return { slot, kind: 'cdrom', volume: isoPick[i] as string };
      return { slot, kind: 'cdrom' };
    });
    const candidates = [...devices.map((d) => d.slot), 'net0'];
    const vm: ObservedVm = {
      name,
      osHints: ostype ? { ostype } : {},
      machine,
      devices,
      nics: [{ slot: 'net0', mac: '52:54:00:00:00:01', model: 'virtio' }],
      bootOrder: candidates.filter((_, i) => bootPick[i]),
      power,
    };
    return vm;
  }),
);

const arbDesired: fc.Arbitrary<DesiredMedia> = fc.record({
  osFamily: fc.option(fc.constantFrom(...OsFamily.options), { nil: undefined }),
  isos: fc.uniqueArray(
    fc.record({
      id: fc.constantFrom('i1', 'i2', 'i3'),
      volume: fc.constantFrom(...ISOS),
      slot: fc.constantFrom('auto', 'auto', 'auto', ...SLOTS),
      purpose: fc.constantFrom('installer', 'drivers', 'answer', 'rescue') as fc.Arbitrary<'installer'>,
      primaryBoot: fc.boolean(),
    }),
    { selector: (i) => i.id, maxLength: 3 },
  ),
  cloudInit: fc.option(fc.record({ placement: fc.constantFrom('keep', 'auto', 'ide', 'sata', 'scsi') as fc.Arbitrary<'keep'> }), { nil: undefined }),
  eject: fc.option(fc.array(fc.record({ slot: fc.constantFrom(...SLOTS), volume: fc.constantFrom(...ISOS) }), { maxLength: 3 }), { nil: undefined }),
  bootOrder: fc.option(
    fc.oneof(
      fc.record({ preset: fc.constantFrom('cdrom_hd', 'hd', 'cdrom', 'hd_cdrom', 'network_hd') as fc.Arbitrary<'hd'> }),
      fc.record({ devices: fc.subarray([...SLOTS, 'net0'], { maxLength: 4 }) }),
    ),
    { nil: undefined },
  ),
  networkFirst: fc.option(fc.boolean(), { nil: undefined }),
});

/** Applies one step the way PVE would accept it, or throws saying why PVE would refuse it. */
function apply(state: { devices: Map<Slot, Device>; boot: Slot[] }, step: Step): void {
  const at = step.op === 'setBootOrder' || step.op === 'regenerateCloudInit' ? undefined : state.devices.get(step.slot);
  const leaving = (slot: Slot) => {
    if (state.boot.includes(slot)) throw new Error(`${step.op} ${slot} while it is in the boot order`);
    state.devices.delete(slot);
  };
  switch (step.op) {
    case 'attachIso':
      if (at) throw new Error(`attach onto occupied ${step.slot} (${at.kind})`);
      state.devices.set(step.slot, { slot: step.slot, kind: 'cdrom', volume: step.volume });
      return;
    case 'detachIso':
      if (at?.kind !== 'cdrom' || at.volume !== step.volume) throw new Error(`detach of ${step.volume} from ${step.slot} which holds ${JSON.stringify(at)}`);
      leaving(step.slot);
      return;
    case 'swapMedia':
      if (at?.kind !== 'cdrom' || (at.volume ?? 'none') !== step.from) throw new Error(`swap at ${step.slot} which holds ${JSON.stringify(at)}`);
      state.devices.set(step.slot, step.to === 'none' ? { slot: step.slot, kind: 'cdrom' } : { slot: step.slot, kind: 'cdrom', volume: step.to });
      return;
    case 'createCloudInit':
      if (at) throw new Error(`cloud-init onto occupied ${step.slot}`);
      if ([...state.devices.values()].some((d) => d.kind === 'cloudinit')) throw new Error('a second cloud-init drive');
      state.devices.set(step.slot, { slot: step.slot, kind: 'cloudinit' });
      return;
    case 'removeCloudInit':
      if (at?.kind !== 'cloudinit') throw new Error(`remove cloud-init from ${step.slot} which holds ${JSON.stringify(at)}`);
      leaving(step.slot);
      return;
    case 'regenerateCloudInit':
      return;
    case 'setBootOrder':
      if (step.previous.join(';') !== state.boot.join(';')) throw new Error(`boot order step expected ${step.previous} but the VM has ${state.boot}`);
      for (const slot of step.order) {
        if (slot !== 'net0' && !state.devices.has(slot)) throw new Error(`boot order names missing ${slot}`);
      }
      state.boot = [...step.order];
  }
}

const layoutOf = (devices: Iterable<Device>) => [...devices].map((d) => `${d.slot}:${d.kind}:${d.kind === 'cloudinit' ? '' : d.volume ?? ''}`).sort();

describe('planMedia properties', () => {
  it('never moves, detaches or deletes a disk; steps apply in order, roll back, and re-planning is a no-op', () => {
    fc.assert(
      fc.property(arbVm, arbDesired, (observed, desired) => {
        let plan;
        try {
          plan = planMedia(observed, desired);
        } catch (err) {
          if (err instanceof PlanRefused) return;
          throw err;
        }
        const disks = observed.devices.filter((d) => d.kind === 'disk');
        const diskSlots = new Set(disks.map((d) => d.slot));
        for (const step of plan.steps) {
          if ('slot' in step) expect(diskSlots.has(step.slot), `${step.op} touches disk slot ${step.slot}`).toBe(false);
        }
        for (const d of disks) expect(plan.devices).toContainEqual(d);
        expect(plan.devices.filter((d) => d.kind === 'disk')).toHaveLength(disks.length);

        const state = { devices: new Map(observed.devices.map((d) => [d.slot, { ...d }])), boot: [...observed.bootOrder] };
        for (const step of plan.steps) apply(state, step);
        expect(layoutOf(state.devices.values())).toEqual(layoutOf(plan.devices));
        expect(state.boot).toEqual(plan.bootOrder);

        for (const step of rollbackSteps(plan.steps)) apply(state, step);
        expect(layoutOf(state.devices.values())).toEqual(layoutOf(observed.devices));
        expect(state.boot).toEqual(observed.bootOrder);

        const again = planMedia({ ...observed, devices: plan.devices, bootOrder: plan.bootOrder }, desired);
        expect(again.steps).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });
});
