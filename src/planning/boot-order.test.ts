import { describe, expect, it } from 'vitest';
import type { Device } from './model.js';
import { planBootOrder } from './boot-order.js';

const devices: Device[] = [
  { slot: 'ide2', kind: 'cdrom', volume: 'local:iso/inst.iso' },
  { slot: 'ide3', kind: 'cloudinit' },
  { slot: 'sata0', kind: 'cdrom', volume: 'local:iso/virtio-win.iso' },
  { slot: 'scsi0', kind: 'disk', volume: 'local-lvm:vm-1-disk-0' },
  { slot: 'scsi1', kind: 'disk', volume: 'local-lvm:vm-1-disk-1' },
];
const nics = [{ slot: 'net0', mac: '52:54:00:00:00:01', model: 'virtio' }, { slot: 'net1', mac: '52:54:00:00:00:02', model: 'e1000' }];

describe('planBootOrder', () => {
  it.each([
    ['installer default: after the last disk in the order', ['scsi0', 'net0'], [{ slot: 'ide2', primary: false }], {}, ['scsi0', 'ide2', 'net0']],
    ['installer default: before the NICs when no disk boots', ['net0'], [{ slot: 'ide2', primary: false }], {}, ['ide2', 'net0']],
    ['installer default: an ISO already in the order stays where it is', ['ide2', 'scsi0'], [{ slot: 'ide2', primary: false }], {}, ['ide2', 'scsi0']],
    ['primary first', ['scsi0', 'ide2', 'net0'], [{ slot: 'ide2', primary: true }], {}, ['ide2', 'scsi0', 'net0']],
    ['a removed device drops out', ['scsi0', 'sata3', 'net0'], [], {}, ['scsi0', 'net0']],
    ['a cloud-init drive already in the order stays (PVE puts it there)', ['scsi0', 'ide3', 'net0'], [], {}, ['scsi0', 'ide3', 'net0']],
    ['no preset adds the cloud-init drive', ['scsi0', 'ide3'], [], { bootOrder: { preset: 'cdrom_hd' } }, ['scsi0']],
    ['hd keeps every disk the order had (software RAID)', ['scsi1', 'scsi0', 'net0'], [], { bootOrder: { preset: 'hd' } }, ['scsi1', 'scsi0']],
    ['hd takes the first disk when none was in the order', ['net0'], [], { bootOrder: { preset: 'hd' } }, ['scsi0']],
    ['cdrom_hd keeps CD-ROMs that were in the order', ['sata0', 'scsi0'], [{ slot: 'ide2', primary: false }], { bootOrder: { preset: 'cdrom_hd' } }, ['ide2', 'sata0', 'scsi0']],
    ['network_hd keeps the NICs that booted', ['net1', 'scsi0'], [], { bootOrder: { preset: 'network_hd' } }, ['net1', 'scsi0']],
    ['networkFirst on top of a preset', ['scsi0'], [{ slot: 'ide2', primary: false }], { bootOrder: { preset: 'hd_cdrom' }, networkFirst: true }, ['net0', 'scsi0', 'ide2']],
  ] as const)('%s', (_, current, bootableIsos, desired, order) => {
    expect(planBootOrder({ current: [...current], devices, nics, bootableIsos: [...bootableIsos], desired }).order).toEqual(order);
  });

  it('warns when primaryBoot cannot apply under a disk-first preset', () => {
    const result = planBootOrder({ current: ['scsi0'], devices, nics, bootableIsos: [{ slot: 'ide2', primary: true }], desired: { bootOrder: { preset: 'hd_cdrom' } } });
    expect(result.order).toEqual(['scsi0', 'ide2']);
    expect(result.warnings).toEqual(['primaryBoot is not applied: boot order preset hd_cdrom does not start with the CD-ROM']);
  });

  it('warns when network boot is wanted and there is no NIC', () => {
    const result = planBootOrder({ current: ['scsi0'], devices, nics: [], bootableIsos: [], desired: { networkFirst: true } });
    expect(result.warnings).toEqual(['network boot is wanted first but the VM has no NIC']);
  });
});
