// The registry of bootplane kinds: names, scope and printer columns beside each schema. The CRD
// generator, the stores and the CLI all read this one table.
import type { z } from 'zod';
import { BootProfile, BootProfileSpec, BootProfileStatus } from './boot-profile.js';
import { DisklessSession, DisklessSessionSpec, DisklessSessionStatus } from './diskless-session.js';
import { Hypervisor, HypervisorSpec, HypervisorStatus } from './hypervisor.js';
import { IsoAttachment, IsoAttachmentSpec, IsoAttachmentStatus } from './iso-attachment.js';
import { NodeBootAssignment, NodeBootAssignmentSpec, NodeBootAssignmentStatus } from './node-boot-assignment.js';
import { VirtualMachine, VirtualMachineSpec, VirtualMachineStatus } from './virtual-machine.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean' | 'number';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface KindInfo {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Cluster' | 'Namespaced';
  description: string;
  object: z.ZodType;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
}

const ready: PrinterColumn = { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Whether the object has converged.' };
const reason: PrinterColumn = { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: 'Why it is (not) ready.', priority: 1 };
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' };

export const KINDS = [
  {
    kind: 'Hypervisor', plural: 'hypervisors', singular: 'hypervisor', shortNames: ['hv'], scope: 'Cluster',
    description: 'A connection to a Proxmox VE cluster or a libvirt host: endpoint, credentials Secret, TLS trust and limits. Status reports reachability, version, nodes, storages and ISOs.',
    object: Hypervisor, spec: HypervisorSpec, status: HypervisorStatus,
    printerColumns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'proxmox or libvirt.' },
      { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', description: 'Endpoint or URI.' },
      { name: 'Version', type: 'string', jsonPath: '.status.version', description: 'Hypervisor version.' },
      ready, reason, age,
    ],
  },
  {
    kind: 'VirtualMachine', plural: 'virtualmachines', singular: 'virtualmachine', shortNames: ['vm'], scope: 'Namespaced',
    description: 'One VM on a Hypervisor, adopted or created: OS family, power, boot order, cloud-init or Ignition, install lifecycle and in-guest provisioning.',
    object: VirtualMachine, spec: VirtualMachineSpec, status: VirtualMachineStatus,
    printerColumns: [
      { name: 'Hypervisor', type: 'string', jsonPath: '.spec.hypervisorRef.name', description: 'Hypervisor the VM lives on.' },
      { name: 'Power', type: 'string', jsonPath: '.status.power', description: 'Observed power state.' },
      { name: 'Install', type: 'string', jsonPath: '.status.install.state', description: 'Install state.' },
      { name: 'Boot', type: 'string', jsonPath: '.status.bootOrderText', description: 'Observed boot order.', priority: 1 },
      { name: 'OS', type: 'string', jsonPath: '.status.osFamily', description: 'OS family.', priority: 1 },
      ready, reason, age,
    ],
  },
  {
    kind: 'IsoAttachment', plural: 'isoattachments', singular: 'isoattachment', shortNames: ['iso'], scope: 'Namespaced',
    description: 'One ISO on one VirtualMachine: a storage volume or a URL with checksum, slot auto or explicit, purpose, primary boot and eject policy.',
    object: IsoAttachment, spec: IsoAttachmentSpec, status: IsoAttachmentStatus,
    printerColumns: [
      { name: 'VM', type: 'string', jsonPath: '.spec.vmRef.name', description: 'VirtualMachine.' },
      { name: 'Slot', type: 'string', jsonPath: '.status.slot', description: 'Slot the ISO is on.' },
      { name: 'Purpose', type: 'string', jsonPath: '.spec.purpose', description: 'What the ISO is for.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Attachment phase.' },
      ready, reason, age,
    ],
  },
  {
    kind: 'BootProfile', plural: 'bootprofiles', singular: 'bootprofile', shortNames: ['bp'], scope: 'Namespaced',
    description: 'How to network-boot: kernel + initrds + cmdline, an iPXE template, an ISO over HTTP, or iSCSI sanboot, with default parameters.',
    object: BootProfile, spec: BootProfileSpec, status: BootProfileStatus,
    printerColumns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'Profile type.' },
      { name: 'Public', type: 'boolean', jsonPath: '.spec.public', description: 'Listed in the fallback menu.' },
      { name: 'Assignments', type: 'integer', jsonPath: '.status.assignments', description: 'Assignments using it.' },
      ready, age,
    ],
  },
  {
    kind: 'NodeBootAssignment', plural: 'nodebootassignments', singular: 'nodebootassignment', shortNames: ['nba'], scope: 'Namespaced',
    description: 'One machine (MAC, SMBIOS UUID or VirtualMachine) bound to a BootProfile with parameter overrides, boot once or always.',
    object: NodeBootAssignment, spec: NodeBootAssignmentSpec, status: NodeBootAssignmentStatus,
    printerColumns: [
      { name: 'MAC', type: 'string', jsonPath: '.spec.mac', description: 'MAC address.' },
      { name: 'VM', type: 'string', jsonPath: '.spec.vmRef.name', description: 'VirtualMachine.', priority: 1 },
      { name: 'Profile', type: 'string', jsonPath: '.spec.profileRef.name', description: 'BootProfile.' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.bootMode', description: 'Always or Once.' },
      { name: 'Boots', type: 'integer', jsonPath: '.status.bootCount', description: 'Scripts served.' },
      { name: 'Last Boot', type: 'date', jsonPath: '.status.lastBoot.time', description: 'Last boot seen.' },
      ready, age,
    ],
  },
  {
    kind: 'DisklessSession', plural: 'disklesssessions', singular: 'disklesssession', shortNames: ['dls'], scope: 'Namespaced',
    description: 'One machine booting from an iSCSI disk that bootplane made for it from a golden image; deleting it cleans up.',
    object: DisklessSession, spec: DisklessSessionSpec, status: DisklessSessionStatus,
    printerColumns: [
      { name: 'MAC', type: 'string', jsonPath: '.status.mac', description: 'Machine MAC.' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'ephemeral or persistent.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Session phase.' },
      { name: 'Target', type: 'string', jsonPath: '.status.targetIQN', description: 'Target IQN.', priority: 1 },
      { name: 'Image', type: 'string', jsonPath: '.status.image', description: 'Golden image.' },
      { name: 'Conns', type: 'integer', jsonPath: '.status.connectionCount', description: 'Connected initiators.' },
      ready, age,
    ],
  },
] as const satisfies readonly KindInfo[];

export type KindName = (typeof KINDS)[number]['kind'];

export function kindInfo(kind: string): KindInfo {
  const info = KINDS.find((k) => k.kind === kind);
  if (!info) throw new Error(`unknown bootplane kind ${kind}`);
  return info;
}
