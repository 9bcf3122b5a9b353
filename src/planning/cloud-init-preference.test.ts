import { describe, expect, it } from 'vitest';
import { cloudInitPreference } from './cloud-init-preference.js';

const pc = { machine: 'pc', arch: 'x86_64', firmware: 'bios' } as const;

describe('cloudInitPreference', () => {
  it('flags a drive on a bus its family does not prefer, and names the bus it wants', () => {
    expect(cloudInitPreference('debian', pc, 'ide2')).toEqual({ verdict: 'misplaced', bus: 'ide', preferred: 'scsi' });
    expect(cloudInitPreference('ubuntu', pc, 'scsi1')).toEqual({ verdict: 'preferred', bus: 'scsi' });
    expect(cloudInitPreference('rhel', pc, 'ide2')).toEqual({ verdict: 'preferred', bus: 'ide' });
    expect(cloudInitPreference('rhel', pc, 'sata0')).toEqual({ verdict: 'misplaced', bus: 'sata', preferred: 'ide' });
  });

  it('follows the machine: UEFI moves IDE last, aarch64 virt has no IDE', () => {
    expect(cloudInitPreference('rhel', { ...pc, firmware: 'uefi' }, 'ide2')).toEqual({ verdict: 'misplaced', bus: 'ide', preferred: 'sata' });
    expect(cloudInitPreference('linux', { machine: 'virt', arch: 'aarch64', firmware: 'uefi' }, 'sata0')).toEqual({ verdict: 'preferred', bus: 'sata' });
  });

  it('has nothing to move for Fedora CoreOS, and says so for slots it cannot read', () => {
    expect(cloudInitPreference('fcos', pc, 'ide2').verdict).toBe('unused');
    expect(cloudInitPreference('debian', pc, 'hdc').verdict).toBe('unknownSlot');
  });
});
