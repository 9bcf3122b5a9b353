// NodeBootAssignment: one machine (MAC, SMBIOS UUID, or a VirtualMachine) bound to a BootProfile.
import { z } from 'zod';
import {
  bootParameters, Conditions, LocalObjectReference, macAddress, observedGeneration, ObjectMeta, SecretKeyReference,
  smbiosUuid, timestamp,
} from './common.js';

export const NodeBootAssignmentSpec = z
  .object({
    mac: macAddress('MAC address of the booting NIC. Immutable: it identifies the machine.').optional(),
    uuid: smbiosUuid('SMBIOS UUID of the machine, matched when the MAC is unknown.').optional(),
    vmRef: LocalObjectReference.optional().describe('A VirtualMachine whose MAC addresses (from its status) identify the machine; its boot order gets network first while the assignment is active.'),
    profileRef: LocalObjectReference.describe('The BootProfile to boot.'),
    parameters: bootParameters('Overrides of the profile\'s parameters for this machine.').optional(),
    bootMode: z.enum(['Always', 'Once']).default('Always').describe('Once: after one successful boot the machine gets the profile\'s local boot until bootOnceEpoch changes.'),
    bootOnceEpoch: z.number().int().min(0).default(0).describe('Raise this number to re-arm a boot-once assignment.'),
    state: z.enum(['Enabled', 'Disabled']).default('Enabled').describe('Disabled machines get the fallback, as unknown machines do.'),
    hostname: z.string().max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).optional().describe('Host name for DHCP host entries.'),
    ipAddress: z.string().max(15).regex(/^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$/).optional()
      .describe('Fixed IPv4 address for DHCP host entries.'),
    ignitionSecretRef: SecretKeyReference.optional().describe('Ignition config served to this machine at a signed /ignition URL.'),
    cloudConfigSecretRef: SecretKeyReference.optional().describe('cloud-config served to this machine at a signed /cloud-config URL.'),
  })
  .meta({
    description: 'Desired network boot of one machine.',
    'x-kubernetes-validations': [
      { rule: 'has(self.mac) || has(self.uuid) || has(self.vmRef)', message: 'set spec.mac, spec.uuid or spec.vmRef to identify the machine' },
      { rule: '!(has(self.mac) && has(self.vmRef))', message: 'set spec.mac or spec.vmRef, not both: a VM\'s MACs come from its status' },
      { rule: '!has(oldSelf.mac) || (has(self.mac) && self.mac == oldSelf.mac)', message: 'spec.mac is immutable: it identifies the machine; create a new assignment for another MAC', fieldPath: '.mac' },
    ],
  });
export type NodeBootAssignmentSpec = z.infer<typeof NodeBootAssignmentSpec>;

export const NodeBootAssignmentStatus = z
  .object({
    observedGeneration: observedGeneration(),
    conditions: Conditions.optional(),
    macAddresses: z.array(z.string().max(17)).max(16).optional().describe('MAC addresses answered for (spec.mac, or the referenced VM\'s).'),
    lastBoot: z
      .object({
        time: timestamp('When the script was served.'),
        clientIP: z.string().max(45).describe('Address the request came from.'),
        scriptHash: z.string().max(64).describe('SHA-256 of the script served.'),
        firmware: z.string().max(16).optional().describe('Firmware the machine reported (pcbios, efi).'),
        arch: z.string().max(16).optional().describe('Architecture the machine reported.'),
        answer: z.enum(['profile', 'localBoot']).optional().describe('What the machine was sent: the profile\'s script, or local boot (a boot-once assignment whose one boot is used). A local-boot answer after an install ends a network install (VirtualMachine spec.install.detectCompletion diskBoot).'),
      })
      .optional()
      .describe('The last boot seen.'),
    bootCount: z.number().int().min(0).optional().describe('Profile scripts served to this machine (local-boot answers are not counted).'),
    bootOnceConsumedEpoch: z.number().int().min(0).optional().describe('bootOnceEpoch whose one boot has been used; equal to spec.bootOnceEpoch means local boot.'),
    profileScriptHash: z.string().max(64).optional().describe('Hash of the script the machine would get now.'),
  })
  .describe('Observed network boots.');
export type NodeBootAssignmentStatus = z.infer<typeof NodeBootAssignmentStatus>;

export const NodeBootAssignment = z.object({
  apiVersion: z.string(),
  kind: z.literal('NodeBootAssignment'),
  metadata: ObjectMeta,
  spec: NodeBootAssignmentSpec,
  status: NodeBootAssignmentStatus.optional(),
});
export type NodeBootAssignment = z.infer<typeof NodeBootAssignment>;
