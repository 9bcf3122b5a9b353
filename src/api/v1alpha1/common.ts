// Building blocks shared by every bootplane kind. Every field carries a description: the CRD
// generator refuses a field without one, so `kubectl explain` always teaches the API.
import { z } from 'zod';

export const GROUP = 'bootplane.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Lower-case, colon-separated EUI-48 as iPXE prints `${net0/mac}`; upper case is accepted too. */
export const MAC_PATTERN = '^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$';
export const UUID_PATTERN = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$';
/** A DNS-1123 subdomain, the shape of most Kubernetes object names. */
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';
export const SHA256_PATTERN = '^[0-9a-f]{64}$';
/** Proxmox and libvirt device slots bootplane may place media on. */
export const SLOT_PATTERN = '^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|efidisk0|tpmstate0|net[0-9]+)$';

export const macAddress = (what: string) =>
  z.string().min(17).max(17).regex(new RegExp(MAC_PATTERN)).describe(what);
export const smbiosUuid = (what: string) =>
  z.string().min(36).max(36).regex(new RegExp(UUID_PATTERN)).describe(what);
export const objectName = (what: string) =>
  z.string().min(1).max(253).regex(new RegExp(NAME_PATTERN)).describe(what);
export const httpUrl = (what: string) =>
  z.string().min(8).max(2048).regex(/^https?:\/\/[^\s]+$/).describe(what);
export const timestamp = (what: string) => z.string().max(64).describe(what);

export const LocalObjectReference = z
  .object({ name: objectName('Name of the referenced object in the same namespace.') })
  .describe('A reference to an object in the same namespace.');
export type LocalObjectReference = z.infer<typeof LocalObjectReference>;

export const ClusterObjectReference = z
  .object({ name: objectName('Name of the referenced cluster-scoped object.') })
  .describe('A reference to a cluster-scoped object.');
export type ClusterObjectReference = z.infer<typeof ClusterObjectReference>;

export const SecretKeyReference = z
  .object({
    name: objectName('Name of the Secret.'),
    key: z.string().min(1).max(253).describe('Key inside the Secret whose value is used.'),
  })
  .describe('One key of a Secret in the same namespace as the referring object.');
export type SecretKeyReference = z.infer<typeof SecretKeyReference>;

export const NamespacedSecretReference = z
  .object({
    name: objectName('Name of the Secret.'),
    namespace: objectName('Namespace of the Secret (cluster-scoped objects must say where it lives).'),
  })
  .describe('A Secret named by namespace and name.');
export type NamespacedSecretReference = z.infer<typeof NamespacedSecretReference>;

export const ConfigMapKeyReference = z
  .object({
    name: objectName('Name of the ConfigMap.'),
    key: z.string().min(1).max(253).describe('Key inside the ConfigMap whose value is used.'),
  })
  .describe('One key of a ConfigMap in the same namespace as the referring object.');

export const Checksum = z
  .object({
    algorithm: z.enum(['sha256', 'sha512']).default('sha256').describe('Hash algorithm of value.'),
    value: z.string().min(64).max(128).regex(/^[0-9a-f]+$/).describe('Lower-case hex digest the downloaded file must match.'),
  })
  .describe('Expected digest of a downloaded file; a mismatch fails the download and keeps nothing.');
export type Checksum = z.infer<typeof Checksum>;

/** metav1.Condition, as every Kubernetes API uses it. */
export const Condition = z
  .object({
    type: z.string().min(1).max(316).regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/)
      .describe('Type of condition in CamelCase, for example Ready.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition: True, False or Unknown.'),
    observedGeneration: z.number().int().min(0).optional()
      .describe('metadata.generation of the object this condition was computed from.'),
    lastTransitionTime: z.string().max(64).describe('When the condition last changed status (RFC 3339).'),
    reason: z.string().min(1).max(1024).regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe('CamelCase, machine-readable reason for the last transition.'),
    message: z.string().max(32768).describe('Human-readable explanation: what happened and what to do about it.'),
  })
  .describe('One observation of the object\'s state (metav1.Condition).');
export type Condition = z.infer<typeof Condition>;

export const Conditions = z
  .array(Condition)
  .max(32)
  .meta({
    description: 'Observations of the object\'s state; Ready summarises them.',
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });

export const observedGeneration = () =>
  z.number().int().min(0).optional().describe('The metadata.generation the controller last acted on.');

/** The minimal ObjectMeta the controllers read; the API server owns the rest. */
export const ObjectMeta = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
});
export type ObjectMeta = z.infer<typeof ObjectMeta>;

export const bootParameters = (what: string) =>
  z
    .record(z.string().max(63), z.string().max(1024))
    .meta({
      description: what,
      maxProperties: 64,
      'x-kubernetes-validations': [
        {
          rule: "self.all(k, k.matches('^[a-zA-Z_][a-zA-Z0-9_.-]*$'))",
          message: 'parameter names must start with a letter or "_" and hold only letters, digits, "_", "." and "-"',
        },
        {
          rule: `self.all(k, self[k].matches('^[^\\n\\r;]*$') && !self[k].contains('\${') && !self[k].contains('||') && !self[k].contains('&&'))`,
          message: 'parameter values must not contain a newline, ";", "${", "||" or "&&": they would change the iPXE script\'s structure',
        },
      ],
    });
