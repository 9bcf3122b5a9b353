// What POST /nodes/{node}/qemu is sent to make a VM from spec.hardware, and what the clone call
// is sent: pure, so tests check every parameter against PVE's schema. PVE allocates each new
// disk from `<storage>:<GiB>` inside the qmcreate task and gives NICs without a MAC a random one.
import type { OsFamily, VirtualMachineSpec } from '../../api/v1alpha1/virtual-machine.js';

export type PveHardware = NonNullable<VirtualMachineSpec['hardware']>;

export interface PveCreateDefaults {
  /** Storage for disks that name none (spec.hardware.disks[].storage unset). */
  diskStorage: string;
  /** Bridge for NICs that name none. */
  bridge: string;
}

export const PVE_CREATE_DEFAULTS: PveCreateDefaults = { diskStorage: 'local-lvm', bridge: 'vmbr0' };

/** PVE's ostype for an OS family: it tunes timers and devices for the guest. */
function ostypeOf(family: OsFamily | undefined): string | undefined {
  if (!family) return undefined;
  return family === 'windows' ? 'win11' : 'l26';
}

/** The parameters of POST /nodes/{node}/qemu, form-encoded as PVE reads them. */
export function pveCreateParams(vmid: number, name: string, hardware: PveHardware, description: string, osFamily: OsFamily | undefined, defaults: PveCreateDefaults = PVE_CREATE_DEFAULTS): Record<string, string> {
  const params: Record<string, string> = {
    vmid: String(vmid),
    name,
    description,
    cores: String(hardware.cores),
    memory: String(hardware.memoryMiB),
  };
  const ostype = ostypeOf(osFamily);
  if (ostype) params.ostype = ostype;
  if (hardware.machine === 'q35') params.machine = 'q35';
  if (hardware.machine === 'virt' || hardware.arch === 'aarch64') {
    params.machine = 'virt';
    params.arch = 'aarch64';
  }
  const disks = hardware.disks ?? [];
  if (hardware.firmware === 'uefi') {
    params.bios = 'ovmf';
    // Persistent EFI variables (boot entries survive a restart); PVE sizes the volume itself.
    // Secure-boot keys are not enrolled, so unsigned installers boot as with SeaBIOS.
    params.efidisk0 = `${disks[0]?.storage ?? defaults.diskStorage}:1,efitype=4m,pre-enrolled-keys=0`;
  }
  if (disks.some((d) => d.slot.startsWith('scsi'))) params.scsihw = 'virtio-scsi-single';
  for (const disk of disks) {
    params[disk.slot] = `${disk.storage ?? defaults.diskStorage}:${disk.sizeGiB},format=${disk.format}`;
  }
  for (const nic of hardware.nics ?? []) {
    const parts = [nic.mac ? `${nic.model}=${nic.mac.toUpperCase()}` : `model=${nic.model}`, `bridge=${nic.bridge ?? defaults.bridge}`];
    if (nic.vlan !== undefined) parts.push(`tag=${nic.vlan}`);
    params[nic.name] = parts.join(',');
  }
  return params;
}

/** The parameters of POST /nodes/{node}/qemu/{template}/clone. */
export function pveCloneParams(newid: number, name: string, full: boolean, description: string, targetNode: string | undefined): Record<string, string> {
  return {
    newid: String(newid),
    name,
    description,
    full: full ? '1' : '0',
    ...(targetNode ? { target: targetNode } : {}),
  };
}
