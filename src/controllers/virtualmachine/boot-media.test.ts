import { describe, expect, it } from 'vitest';
import type { Plan } from '../../planning/model.js';
import { bootMediaCondition } from './boot-media.js';

const plan = (devices: Plan['devices']): Plan => ({ devices, bootOrder: [], steps: [], warnings: [], isoSlots: {}, osFamily: 'linux', osFamilySource: 'default' });
const disk = { slot: 'virtio0', kind: 'disk' as const, volume: 'default/a.qcow2' };

describe('bootMediaCondition', () => {
  it('warns when a CD-ROM preset has no ISO to boot', () => {
    for (const preset of ['cdrom_hd', 'cdrom', 'hd_cdrom'] as const) {
      const c = bootMediaCondition({ isos: [], bootOrder: { preset } }, plan([disk, { slot: 'sata0', kind: 'cdrom' }]));
      expect(c).toMatchObject({ type: 'BootMediaConsistent', status: 'False', reason: 'CdromWithoutIso' });
      expect(c.message).toContain(`spec.bootOrder.preset ${preset}`);
    }
  });
  it('is content when an ISO is in, when the order does not want one, and ignores the cloud-init drive', () => {
    expect(bootMediaCondition({ isos: [], bootOrder: { preset: 'cdrom_hd' } }, plan([disk, { slot: 'sata0', kind: 'cdrom', volume: 'default/x.iso' }])).status).toBe('True');
    expect(bootMediaCondition({ isos: [], bootOrder: { preset: 'hd' } }, plan([disk])).status).toBe('True');
    expect(bootMediaCondition({ isos: [] }, plan([disk])).status).toBe('True');
    expect(bootMediaCondition({ isos: [], bootOrder: { preset: 'cdrom_hd' } }, plan([disk, { slot: 'ide2', kind: 'cloudinit', volume: 'default/x-cidata.iso' }])).status).toBe('False');
  });
  it('names an explicit slot that holds an empty CD-ROM', () => {
    const c = bootMediaCondition({ isos: [], bootOrder: { devices: ['sata1', 'virtio0'] } }, plan([disk, { slot: 'sata1', kind: 'cdrom' }]));
    expect(c).toMatchObject({ status: 'False', reason: 'CdromWithoutIso' });
    expect(c.message).toContain('sata1');
  });
});
