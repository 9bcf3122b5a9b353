// The domain and volumes bootplane defines for a VirtualMachine with spec.source: create on
// libvirt: pure, so tests read the XML without a daemon. Disks are qcow2 or raw volumes named
// <domain>-<slot>.<format> in a pool, referenced by pool and volume (so the pool may move its
// files); NICs carry their MACs; UEFI uses libvirt's firmware auto-selection (the OVMF
// descriptors Debian's ovmf package installs) with secure boot off, so no SMM or enrolled keys
// are needed.
import type { VirtualMachineSpec } from '../../api/v1alpha1/virtual-machine.js';
import { escapeXml } from './xml-tree.js';
import { targetOfSlot } from './slots.js';

export type LibvirtHardware = NonNullable<VirtualMachineSpec['hardware']>;

export interface PlannedVolume {
  pool: string;
  name: string;
  format: 'qcow2' | 'raw';
  capacityBytes: number;
  /** The field the volume comes from, for messages. */
  field: string;
  xml: string;
}

export interface DomainCreatePlan {
  volumes: PlannedVolume[];
  domainXml: string;
}

export interface DomainCreateOptions {
  /** Pool for disks that name none (the Hypervisor's spec.libvirt.storagePool). */
  defaultPool: string;
  /** kvm when the host offers it and the Hypervisor allows it, else qemu (TCG). */
  domainType: 'kvm' | 'qemu';
}

const GiB = 2 ** 30;

/** A disk's volume name: one per domain and slot, so a retried create finds the same names. */
export function diskVolumeName(domainName: string, slot: string, format: 'qcow2' | 'raw'): string {
  return `${domainName}-${slot}.${format}`;
}

function volumeXml(name: string, capacityBytes: number, format: string): string {
  return `<volume><name>${escapeXml(name)}</name><capacity unit='bytes'>${capacityBytes}</capacity><allocation unit='bytes'>0</allocation><target><format type='${format}'/></target></volume>`;
}

export function planDomainCreate(domainName: string, hardware: LibvirtHardware, description: string, options: DomainCreateOptions): DomainCreatePlan {
  const volumes: PlannedVolume[] = (hardware.disks ?? []).map((disk, i) => {
    const name = diskVolumeName(domainName, disk.slot, disk.format);
    const capacityBytes = disk.sizeGiB * GiB;
    return { pool: disk.storage ?? options.defaultPool, name, format: disk.format, capacityBytes, field: `spec.hardware.disks[${i}]`, xml: volumeXml(name, capacityBytes, disk.format) };
  });
  const taken: { dev: string; slot: string }[] = [];
  const disks = (hardware.disks ?? []).map((disk, i) => {
    const { dev, bus } = targetOfSlot(disk.slot, taken);
    taken.push({ dev, slot: disk.slot });
    const v = volumes[i]!;
    return `    <disk type='volume' device='disk'><driver name='qemu' type='${v.format}'/><source pool='${escapeXml(v.pool)}' volume='${escapeXml(v.name)}'/><target dev='${dev}' bus='${bus}'/></disk>`;
  });
  const scsi = (hardware.disks ?? []).some((d) => d.slot.startsWith('scsi')) ? ["    <controller type='scsi' index='0' model='virtio-scsi'/>"] : [];
  const nics = (hardware.nics ?? []).map((nic) => {
    const source = nic.bridge ? `<source bridge='${escapeXml(nic.bridge)}'/>` : "<source network='default'/>";
    const mac = nic.mac ? `<mac address='${nic.mac.toLowerCase()}'/>` : '';
    const vlan = nic.vlan !== undefined ? `<vlan><tag id='${nic.vlan}'/></vlan>` : '';
    return `    <interface type='${nic.bridge ? 'bridge' : 'network'}'>${mac}${source}${vlan}<model type='${nic.model}'/></interface>`;
  });
  const aarch64 = hardware.arch === 'aarch64';
  const machine = aarch64 ? 'virt' : hardware.machine;
  const uefi = hardware.firmware === 'uefi' || aarch64;
  const os = uefi
    ? `  <os firmware='efi'>\n    <type arch='${hardware.arch}' machine='${machine}'>hvm</type>\n    <firmware><feature enabled='no' name='secure-boot'/><feature enabled='no' name='enrolled-keys'/></firmware>\n  </os>`
    : `  <os>\n    <type arch='${hardware.arch}' machine='${machine}'>hvm</type>\n  </os>`;
  const domainXml = [
    `<domain type='${options.domainType}'>`,
    `  <name>${escapeXml(domainName)}</name>`,
    `  <description>${escapeXml(description)}</description>`,
    `  <memory unit='MiB'>${hardware.memoryMiB}</memory>`,
    `  <vcpu>${hardware.cores}</vcpu>`,
    os,
    `  <features><acpi/>${aarch64 ? '<gic version=\'3\'/>' : '<apic/>'}</features>`,
    ...(aarch64 ? ["  <cpu mode='custom' match='exact'><model fallback='allow'>cortex-a57</model></cpu>"] : []),
    '  <devices>',
    ...disks,
    ...scsi,
    ...nics,
    "    <serial type='pty'/>",
    "    <console type='pty'/>",
    "    <memballoon model='virtio'/>",
    '  </devices>',
    '</domain>',
  ].join('\n');
  return { volumes, domainXml };
}
