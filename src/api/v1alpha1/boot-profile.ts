// BootProfile: how to network-boot a machine (kernel + initrds, an iPXE template, an ISO over
// HTTP, or iSCSI sanboot), with default parameters that assignments may override.
import { z } from 'zod';
import { bootParameters, Conditions, httpUrl, observedGeneration, ObjectMeta, SHA256_PATTERN } from './common.js';

export const BootAsset = z
  .object({
    url: httpUrl('Where the boot server fetches the file (cached, checksum verified, served at /boot/assets/{profile}/{file}).').optional(),
    path: z.string().max(1024).regex(/^[A-Za-z0-9._/-]+$/).optional()
      .describe('Path relative to the boot server\'s asset directory, instead of url.'),
    sha256: z.string().length(64).regex(new RegExp(SHA256_PATTERN)).optional().describe('Expected SHA-256 of the file.'),
    name: z.string().max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).optional().describe('File name the machine sees; defaults to the last segment of url or path.'),
  })
  .meta({
    description: 'A kernel, initrd or image file.',
    'x-kubernetes-validations': [
      { rule: 'has(self.url) != has(self.path)', message: 'set exactly one of url and path' },
      { rule: "!has(self.path) || !self.path.contains('..')", message: 'path must not contain ".."', fieldPath: '.path' },
    ],
  });

export const BootProfileSpec = z
  .object({
    type: z.enum(['kernel', 'ipxeTemplate', 'httpIso', 'iscsiSanboot']).describe('How the machine boots: kernel (kernel + initrds + cmdline), ipxeTemplate (a raw iPXE script template), httpIso (an ISO over HTTP), iscsiSanboot (an iSCSI target).'),
    kernel: z
      .object({
        kernel: BootAsset,
        initrds: z.array(BootAsset).max(8).optional().describe('Initial ramdisks in load order.'),
        cmdline: z.string().max(4096).default('').describe('Kernel command line; {{name}} placeholders take parameters.'),
      })
      .optional()
      .describe('Kernel boot.'),
    ipxeTemplate: z.string().max(16384).optional()
      .describe('An iPXE script body; {{name}} placeholders take parameters (values are checked so they cannot change the script\'s structure).'),
    httpIso: z
      .object({ image: BootAsset })
      .optional()
      .describe('Boot an ISO image over HTTP (iPXE sanboot).'),
    iscsiSanboot: z
      .object({
        portal: z.string().max(261).regex(/^[A-Za-z0-9.:[\]-]+(:[0-9]{1,5})?$/).describe('Target portal host[:port].'),
        targetIQN: z.string().max(223).regex(/^iqn\.[0-9]{4}-[0-9]{2}\.[^\s]+$/).describe('Target IQN.'),
        lun: z.number().int().min(0).max(255).default(1).describe('LUN to boot (tgt\'s disk is LUN 1; LUN 0 is its controller).'),
        initiatorIQNTemplate: z.string().max(223).default('iqn.2024-01.io.bootplane:{{mac}}').describe('Initiator IQN per machine; {{mac}} is the machine\'s MAC without colons.'),
      })
      .optional()
      .describe('iSCSI sanboot.'),
    firmware: z.array(z.enum(['bios', 'uefi'])).min(1).max(2).default(['bios', 'uefi']).describe('Firmware this profile supports; others get the fallback.'),
    parameters: bootParameters('Default parameters for {{name}} placeholders; assignments overlay their own.').optional(),
    public: z.boolean().default(false).describe('List the profile in the fallback menu and serve it at /boot/{name}.ipxe with its defaults.'),
    unattended: z.boolean().default(false).describe('The profile installs an OS without a person (for example Ubuntu autoinstall); never offered to unknown machines.'),
    localBoot: z.enum(['exit', 'sanbootLocalDisk', 'notFound']).default('exit').describe('What boot-once machines get after their one boot: exit (firmware goes to the next device), sanbootLocalDisk (boot drive 0x80), notFound (HTTP 404).'),
  })
  .meta({
    description: 'Desired network boot profile.',
    'x-kubernetes-validations': [
      { rule: "(self.type == 'kernel') == has(self.kernel)", message: 'spec.kernel is required exactly when spec.type is kernel', fieldPath: '.kernel' },
      { rule: "(self.type == 'ipxeTemplate') == has(self.ipxeTemplate)", message: 'spec.ipxeTemplate is required exactly when spec.type is ipxeTemplate', fieldPath: '.ipxeTemplate' },
      { rule: "(self.type == 'httpIso') == has(self.httpIso)", message: 'spec.httpIso is required exactly when spec.type is httpIso', fieldPath: '.httpIso' },
      { rule: "(self.type == 'iscsiSanboot') == has(self.iscsiSanboot)", message: 'spec.iscsiSanboot is required exactly when spec.type is iscsiSanboot', fieldPath: '.iscsiSanboot' },
      { rule: '!(self.public && self.unattended)', message: 'an unattended profile cannot be public: unknown machines must never get an unattended install', fieldPath: '.public' },
    ],
  });
export type BootProfileSpec = z.infer<typeof BootProfileSpec>;

export const BootProfileStatus = z
  .object({
    observedGeneration: observedGeneration(),
    conditions: Conditions.optional(),
    assignments: z.number().int().min(0).optional().describe('NodeBootAssignments using this profile.'),
    scriptHash: z.string().max(64).optional().describe('Hash of the script rendered with the profile\'s defaults.'),
  })
  .describe('Observed state of the profile.');

export const BootProfile = z.object({
  apiVersion: z.string(),
  kind: z.literal('BootProfile'),
  metadata: ObjectMeta,
  spec: BootProfileSpec,
  status: BootProfileStatus.optional(),
});
export type BootProfile = z.infer<typeof BootProfile>;
