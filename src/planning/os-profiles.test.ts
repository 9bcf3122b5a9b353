import { describe, expect, it } from 'vitest';
import type { MachineFacts } from './model.js';
import { cloudInitBusesFor, isoBusesFor, OS_PROFILES } from './os-profiles.js';

const PC: MachineFacts = { machine: 'pc', arch: 'x86_64', firmware: 'bios' };
const Q35_OVMF: MachineFacts = { machine: 'q35', arch: 'x86_64', firmware: 'uefi' };
const VIRT: MachineFacts = { machine: 'virt', arch: 'aarch64', firmware: 'uefi' };

describe('OS profiles on machines', () => {
  it.each([
    ['debian', PC, ['scsi', 'sata', 'ide']],
    ['ubuntu', Q35_OVMF, ['scsi', 'sata', 'ide']],
    ['rhel', PC, ['ide', 'sata', 'scsi']],
    ['rhel', Q35_OVMF, ['sata', 'scsi', 'ide']],
    ['fedora', VIRT, ['sata', 'scsi']],
    ['windows', Q35_OVMF, ['sata', 'ide']],
    ['linux', PC, ['ide', 'sata', 'scsi']],
  ] as const)('cloud-init for %s on %j: %j', (family, machine, buses) => {
    expect(cloudInitBusesFor(OS_PROFILES[family], machine)).toEqual(buses);
  });

  it.each([
    ['fcos', 'installer', PC, ['ide']],
    ['fcos', 'installer', VIRT, ['sata', 'scsi']],
    ['windows', 'installer', PC, ['sata', 'ide']],
    ['windows', 'drivers', Q35_OVMF, ['sata', 'ide']],
    ['debian', 'installer', VIRT, ['sata', 'scsi']],
    ['talos', 'rescue', PC, ['ide', 'sata', 'scsi']],
  ] as const)('%s %s ISO on %j: %j', (family, purpose, machine, buses) => {
    expect(isoBusesFor(OS_PROFILES[family], purpose, machine)).toEqual(buses);
  });

  it('Fedora CoreOS has no use for cloud-init', () => {
    expect(OS_PROFILES.fcos.cloudInit).toBe('unused');
    expect(Object.values(OS_PROFILES).filter((p) => p.cloudInit === 'unused').map((p) => p.family)).toEqual(['fcos']);
  });
});
