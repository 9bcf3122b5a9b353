import { describe, expect, it } from 'vitest';
import type { MachineFacts } from './model.js';
import { compareSlots, mediaSlotsOnMachine, parseSlot, removableSlotProblem } from './slots.js';

const pc: MachineFacts = { machine: 'pc', arch: 'x86_64', firmware: 'bios' };
const q35: MachineFacts = { machine: 'q35', arch: 'x86_64', firmware: 'uefi' };
const virt: MachineFacts = { machine: 'virt', arch: 'aarch64', firmware: 'uefi' };

describe('slots', () => {
  it.each([['ide3', { bus: 'ide', index: 3 }], ['scsi30', { bus: 'scsi', index: 30 }], ['sata5', { bus: 'sata', index: 5 }], ['ide4', undefined], ['scsi31', undefined], ['scsi01', undefined], ['net0', undefined]])(
    'parses %s', (slot, parsed) => expect(parseSlot(slot)).toEqual(parsed));

  it('sorts like PVE lists drives', () => {
    expect(['scsi10', 'virtio0', 'ide2', 'scsi2', 'sata1'].sort(compareSlots)).toEqual(['ide2', 'sata1', 'scsi2', 'scsi10', 'virtio0']);
  });

  it('machine types offer different IDE slots, ide2 first', () => {
    expect(mediaSlotsOnMachine(pc, 'ide')).toEqual(['ide2', 'ide3', 'ide1', 'ide0']);
    expect(mediaSlotsOnMachine(q35, 'ide')).toEqual(['ide2', 'ide0']);
    expect(mediaSlotsOnMachine(virt, 'ide')).toEqual([]);
    expect(mediaSlotsOnMachine(pc, 'virtio')).toEqual([]);
    expect(mediaSlotsOnMachine(virt, 'scsi')).toHaveLength(31);
  });

  it.each([
    [pc, 'ide1', undefined],
    [q35, 'ide1', /does not exist on machine type q35, which has only ide0 and ide2/],
    [q35, 'ide3', /only ide0 and ide2/],
    [virt, 'ide2', /has no IDE bus/],
    [pc, 'virtio1', /virtio is never a CD-ROM bus/],
    [pc, 'ide4', /not a drive slot/],
    [virt, 'sata0', undefined],
  ] as const)('%j %s', (machine, slot, problem) => {
    const result = removableSlotProblem(machine, slot);
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(problem);
  });
});
