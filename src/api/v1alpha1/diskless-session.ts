// DisklessSession: a machine booting from an iSCSI disk made for it from a golden image.
import { z } from 'zod';
import { Conditions, httpUrl, LocalObjectReference, macAddress, observedGeneration, ObjectMeta, SHA256_PATTERN, timestamp } from './common.js';

export const DisklessSessionSpec = z
  .object({
    machine: z
      .object({
        mac: macAddress('MAC address of the machine that boots the session.').optional(),
        assignmentRef: LocalObjectReference.optional().describe('A NodeBootAssignment whose machine boots the session.'),
      })
      .meta({
        description: 'The machine: a MAC or a NodeBootAssignment.',
        'x-kubernetes-validations': [
          { rule: 'has(self.mac) != has(self.assignmentRef)', message: 'set exactly one of spec.machine.mac and spec.machine.assignmentRef' },
        ],
      }),
    image: z
      .object({
        path: z.string().max(1024).regex(/^\/[^\s]*$/).optional().describe('Absolute path of the golden image on the target host.'),
        url: httpUrl('URL of the golden image, downloaded once into the target\'s cache.').optional(),
        sha256: z.string().length(64).regex(new RegExp(SHA256_PATTERN)).optional().describe('SHA-256 the image must match.'),
      })
      .meta({
        description: 'The golden disk image.',
        'x-kubernetes-validations': [
          { rule: 'has(self.path) != has(self.url)', message: 'set exactly one of spec.image.path and spec.image.url' },
          { rule: '!has(self.url) || has(self.sha256)', message: 'spec.image.sha256 is required with spec.image.url', fieldPath: '.sha256' },
          { rule: "!has(self.path) || !self.path.contains('..')", message: 'spec.image.path must not contain ".."', fieldPath: '.path' },
        ],
      }),
    mode: z.enum(['ephemeral', 'persistent']).default('ephemeral').describe('ephemeral: a fresh copy for this session, deleted at stop. persistent: the machine\'s own copy, kept across sessions.'),
    deletePersistentCopy: z.boolean().default(false).describe('Delete a persistent copy when the session ends.'),
    maxDurationSeconds: z.number().int().min(60).max(31536000).optional().describe('End the session after this long.'),
    target: z
      .object({
        driver: z.enum(['tgt']).default('tgt').describe('Target driver: tgt (Linux userspace target).'),
        portal: z.string().max(261).regex(/^[A-Za-z0-9.:[\]-]+:[0-9]{1,5}$/).describe('Portal host:port that machines connect to.'),
        copyDirectory: z.string().max(1024).regex(/^\/[^\s]*$/).optional().describe('Directory on the target host for session copies.'),
      })
      .describe('The target server.'),
    chap: z.boolean().default(false).describe('Require CHAP with credentials generated per session.'),
    state: z.enum(['Active', 'Stopped']).default('Active').describe('Stopped ends the session and cleans up, like deleting it.'),
  })
  .meta({
    description: 'Desired diskless boot session.',
    'x-kubernetes-validations': [
      { rule: 'self.mode == oldSelf.mode', message: 'spec.mode is immutable for a session', fieldPath: '.mode' },
    ],
  });
export type DisklessSessionSpec = z.infer<typeof DisklessSessionSpec>;

export const DisklessSessionStatus = z
  .object({
    observedGeneration: observedGeneration(),
    conditions: Conditions.optional(),
    phase: z.enum(['Pending', 'Provisioning', 'Active', 'Stopping', 'Stopped', 'Failed']).optional().describe('Session phase.'),
    mac: z.string().max(17).optional().describe('MAC of the machine, for the printer column.'),
    targetIQN: z.string().max(223).optional().describe('IQN of the session\'s target.'),
    lun: z.number().int().min(0).max(255).optional().describe('LUN of the disk.'),
    portal: z.string().max(261).optional().describe('Portal the machine connects to.'),
    initiatorIQN: z.string().max(223).optional().describe('The only initiator the target admits.'),
    connections: z
      .array(
        z.object({
          initiator: z.string().max(223).describe('Initiator IQN.'),
          address: z.string().max(64).describe('Initiator address.'),
          since: timestamp('When the connection was first seen.'),
        }).describe('A connected initiator.'),
      )
      .max(16)
      .optional()
      .describe('Connected initiators.'),
    connectionCount: z.number().int().min(0).optional().describe('How many initiators are connected now, for the printer column.'),
    copy: z
      .object({
        method: z.enum(['reflink', 'sparse']).describe('How the session copy was made.'),
        bytesCopied: z.number().int().min(0).describe('Bytes copied so far.'),
        totalBytes: z.number().int().min(0).describe('Size of the image.'),
      })
      .optional()
      .describe('Progress of the session copy.'),
    startedAt: timestamp('When the session became Active.').optional(),
    expiresAt: timestamp('When maxDurationSeconds ends the session.').optional(),
    image: z.string().max(1024).optional().describe('The golden image the session boots (its path, or its URL without query), for the printer column.'),
    copyPath: z.string().max(1024).optional().describe('The session\'s own copy on the target host.'),
    stoppingSince: timestamp('When the session began stopping; connected machines get a bounded time to disconnect.').optional(),
  })
  .describe('Observed state of the session.');

export const DisklessSession = z.object({
  apiVersion: z.string(),
  kind: z.literal('DisklessSession'),
  metadata: ObjectMeta,
  spec: DisklessSessionSpec,
  status: DisklessSessionStatus.optional(),
});
export type DisklessSession = z.infer<typeof DisklessSession>;
