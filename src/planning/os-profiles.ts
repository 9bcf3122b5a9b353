// What each OS family wants from its boot media. Buses are listed in preference order; the machine
// rules (slots.ts) remove those a machine lacks.
import type { OsFamily } from '../api/v1alpha1/virtual-machine.js';
import type { Bus, IsoPurpose, MachineFacts } from './model.js';
import { machineHasBus } from './slots.js';

export interface OsProfile {
  family: OsFamily;
  /** unused: the OS ignores a cloud-init drive (Fedora CoreOS boots with Ignition). */
  cloudInit: 'used' | 'unused';
  cloudInitBuses: readonly Bus[];
  isoBuses: Readonly<Record<IsoPurpose, readonly Bus[]>>;
}

const LINUX_ISO_BUSES = { installer: ['ide', 'sata', 'scsi'], drivers: ['sata', 'ide', 'scsi'], answer: ['ide', 'sata', 'scsi'], rescue: ['ide', 'sata', 'scsi'] } as const;

export const OS_PROFILES: Readonly<Record<OsFamily, OsProfile>> = {
  // Debian and Ubuntu cloud images look for the NoCloud drive on SCSI first.
  debian: { family: 'debian', cloudInit: 'used', cloudInitBuses: ['scsi', 'sata', 'ide'], isoBuses: LINUX_ISO_BUSES },
  ubuntu: { family: 'ubuntu', cloudInit: 'used', cloudInitBuses: ['scsi', 'sata', 'ide'], isoBuses: LINUX_ISO_BUSES },
  rhel: { family: 'rhel', cloudInit: 'used', cloudInitBuses: ['ide', 'sata', 'scsi'], isoBuses: LINUX_ISO_BUSES },
  fedora: { family: 'fedora', cloudInit: 'used', cloudInitBuses: ['ide', 'sata', 'scsi'], isoBuses: LINUX_ISO_BUSES },
  // The CoreOS live ISO boots from IDE; machines without IDE fall back to SATA/SCSI (see isoBusesFor).
  fcos: { family: 'fcos', cloudInit: 'unused', cloudInitBuses: [], isoBuses: { installer: ['ide'], drivers: ['ide'], answer: ['ide'], rescue: ['ide'] } },
  // Windows setup finds its media on SATA without extra drivers; virtio-win goes beside it as a second CD-ROM.
  windows: { family: 'windows', cloudInit: 'used', cloudInitBuses: ['ide', 'sata'], isoBuses: { installer: ['sata', 'ide'], drivers: ['sata', 'ide'], answer: ['sata', 'ide'], rescue: ['sata', 'ide'] } },
  talos: { family: 'talos', cloudInit: 'used', cloudInitBuses: ['ide', 'scsi', 'sata'], isoBuses: LINUX_ISO_BUSES },
  // The historical default: everything on IDE.
  linux: { family: 'linux', cloudInit: 'used', cloudInitBuses: ['ide', 'sata', 'scsi'], isoBuses: LINUX_ISO_BUSES },
};

const NO_IDE_FALLBACK: readonly Bus[] = ['sata', 'scsi'];

function onMachine(buses: readonly Bus[], machine: MachineFacts): Bus[] {
  const present = buses.filter((b) => machineHasBus(machine, b));
  return present.length > 0 ? present : NO_IDE_FALLBACK.filter((b) => machineHasBus(machine, b));
}

/** Buses for an ISO of this purpose on this machine, in preference order. */
export function isoBusesFor(profile: OsProfile, purpose: IsoPurpose, machine: MachineFacts): Bus[] {
  return onMachine(profile.isoBuses[purpose], machine);
}

/**
 * Buses for the cloud-init drive on this machine, in preference order. OVMF finds a cloud-init
 * drive on SCSI or SATA more reliably than on IDE, so under UEFI IDE moves to the end.
 */
export function cloudInitBusesFor(profile: OsProfile, machine: MachineFacts): Bus[] {
  const base = profile.cloudInitBuses.length > 0 ? profile.cloudInitBuses : OS_PROFILES.linux.cloudInitBuses;
  const ordered = machine.firmware === 'uefi' ? [...base.filter((b) => b !== 'ide'), ...base.filter((b) => b === 'ide')] : [...base];
  return onMachine(ordered, machine);
}
