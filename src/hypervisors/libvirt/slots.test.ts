import { describe, expect, it } from 'vitest';
import { slotOfTarget, SlotError, targetOfSlot } from './slots.js';

describe('libvirt targets and slots', () => {
  it.each([
    ['hda', 'ide', 'ide0'], ['hdb', 'ide', 'ide1'], ['hdc', 'ide', 'ide2'], ['hdd', 'ide', 'ide3'],
    ['sda', 'sata', 'sata0'], ['sdb', 'sata', 'sata1'], ['sda', 'scsi', 'scsi0'], ['sdc', 'scsi', 'scsi2'],
    ['vda', 'virtio', 'virtio0'], ['vdb', 'virtio', 'virtio1'], ['sdaa', 'scsi', 'scsi26'],
  ])('%s on %s is %s and back', (dev, bus, slot) => {
    expect(slotOfTarget(dev, bus)).toBe(slot);
    expect(targetOfSlot(slot)).toEqual({ dev, bus });
  });

  it('infers the bus from the prefix when the XML has none, and skips buses the planner does not place', () => {
    expect(slotOfTarget('hdc', undefined)).toBe('ide2');
    expect(slotOfTarget('vda', undefined)).toBe('virtio0');
    expect(slotOfTarget('sda', 'usb')).toBeUndefined();
    expect(slotOfTarget('fda', 'fdc')).toBeUndefined();
  });

  it('refuses slots libvirt cannot name', () => {
    expect(() => targetOfSlot('ide4')).toThrow(SlotError);
    expect(() => targetOfSlot('net0')).toThrow(/not a disk slot/);
    expect(() => targetOfSlot('scsi0', [{ dev: 'sda', slot: 'sata0' }])).toThrow(/sata0 already uses/);
  });
});
