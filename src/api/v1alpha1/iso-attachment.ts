// IsoAttachment: one ISO on one VirtualMachine, on a planned or explicit slot.
import { z } from 'zod';
import { Checksum, Conditions, httpUrl, LocalObjectReference, observedGeneration, ObjectMeta, SLOT_PATTERN, timestamp } from './common.js';

export const IsoSource = z
  .object({
    volume: z.string().min(1).max(1024).optional()
      .describe('An ISO already on hypervisor storage: a Proxmox volume ID (local:iso/debian-12.iso) or a libvirt pool/volume (isos/debian-12.iso) or absolute path.'),
    url: httpUrl('Download the ISO from this URL into the Hypervisor\'s ISO storage (Proxmox download-url, libvirt volume upload).').optional(),
    checksum: Checksum.optional(),
    filename: z.string().max(255).regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*\.iso$/).optional()
      .describe('File name on storage for a downloaded ISO; defaults to the URL\'s last path segment.'),
  })
  .meta({
    description: 'Where the ISO comes from: exactly one of volume and url.',
    'x-kubernetes-validations': [
      { rule: 'has(self.volume) != has(self.url)', message: 'set exactly one of spec.source.volume and spec.source.url' },
      { rule: '!has(self.url) || has(self.checksum)', message: 'spec.source.checksum is required with spec.source.url: a download is verified before it is attached', fieldPath: '.checksum' },
    ],
  });

export const IsoAttachmentSpec = z
  .object({
    vmRef: LocalObjectReference.describe('The VirtualMachine the ISO is attached to.'),
    source: IsoSource,
    slot: z.string().max(16).regex(new RegExp(`^(auto|${SLOT_PATTERN.slice(1, -1)})$`)).default('auto')
      .describe('auto lets the planner choose by OS family and machine type; an explicit slot (ide2, sata1, scsi5) is honoured or refused with a reason.'),
    purpose: z.enum(['installer', 'drivers', 'answer', 'rescue']).default('installer')
      .describe('What the ISO is for: installer (boot media), drivers (for example virtio-win, a second CD-ROM), answer (unattended answer file), rescue.'),
    primaryBoot: z.boolean().default(false).describe('Put this ISO first in the boot order (instead of disk first, then ISO).'),
    ejectPolicy: z.enum(['Never', 'AfterInstall']).default('Never').describe('AfterInstall ejects the ISO once the VM\'s install completes.'),
    cleanupOnFailure: z.boolean().default(true).describe('Roll a failed multi-step change back using the recorded inverse steps.'),
  })
  .meta({
    description: 'Desired ISO attachment.',
    'x-kubernetes-validations': [
      { rule: 'self.vmRef.name == oldSelf.vmRef.name', message: 'spec.vmRef is immutable: delete the IsoAttachment and create one for the other VM', fieldPath: '.vmRef' },
      { rule: "!self.primaryBoot || self.purpose == 'installer' || self.purpose == 'rescue'", message: 'spec.primaryBoot is only meaningful for installer and rescue ISOs', fieldPath: '.primaryBoot' },
      { rule: "!self.slot.startsWith('virtio')", message: 'spec.slot: virtio is never a CD-ROM bus; use ide, sata or scsi', fieldPath: '.slot' },
    ],
  });
export type IsoAttachmentSpec = z.infer<typeof IsoAttachmentSpec>;

export const IsoAttachmentStatus = z
  .object({
    observedGeneration: observedGeneration(),
    conditions: Conditions.optional(),
    phase: z.enum(['Pending', 'Downloading', 'Attaching', 'Attached', 'Ejected', 'Failed']).optional().describe('Where the attachment is.'),
    slot: z.string().max(16).optional().describe('Slot the ISO is attached on.'),
    volume: z.string().max(1024).optional().describe('Volume on hypervisor storage.'),
    download: z
      .object({
        task: z.string().max(512).optional().describe('Hypervisor task downloading the ISO (Proxmox UPID).'),
        progressPercent: z.number().int().min(0).max(100).optional().describe('Download progress.'),
        bytes: z.number().int().min(0).optional().describe('Bytes downloaded.'),
        verified: z.boolean().optional().describe('Whether the checksum matched.'),
        startedAt: timestamp('When the download started.').optional(),
      })
      .optional()
      .describe('Download of a URL-sourced ISO.'),
    cloudInitRelocation: z
      .object({ from: z.string().max(16).describe('Old slot.'), to: z.string().max(16).describe('New slot.') })
      .optional()
      .describe('Cloud-init drive moved to free the slot this ISO needed.'),
    ejectedAt: timestamp('When the ISO was ejected.').optional(),
  })
  .describe('Observed state of the attachment.');
export type IsoAttachmentStatus = z.infer<typeof IsoAttachmentStatus>;

export const IsoAttachment = z.object({
  apiVersion: z.string(),
  kind: z.literal('IsoAttachment'),
  metadata: ObjectMeta,
  spec: IsoAttachmentSpec,
  status: IsoAttachmentStatus.optional(),
});
export type IsoAttachment = z.infer<typeof IsoAttachment>;
