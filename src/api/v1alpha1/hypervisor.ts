// Hypervisor: a connection to one Proxmox VE cluster or one libvirt host (cluster-scoped).
import { z } from 'zod';
import { Conditions, NamespacedSecretReference, observedGeneration, ObjectMeta, timestamp } from './common.js';

export const HypervisorType = z.enum(['proxmox', 'libvirt']).describe('Which hypervisor API this connection speaks: proxmox or libvirt.');
export type HypervisorType = z.infer<typeof HypervisorType>;

export const ProxmoxConnection = z
  .object({
    endpoint: z.string().min(9).max(2048).regex(/^https:\/\/[^\s/]+(:[0-9]+)?\/?$/)
      .describe('Base URL of the Proxmox VE API, for example https://pve1.example.net:8006 (HTTPS only).'),
    authMethod: z.enum(['token', 'ticket']).default('token')
      .describe('token: an API token (Secret keys tokenId and tokenSecret, for example root@pam!bootplane). ticket: a user login (Secret keys username and password) exchanged for a ticket and CSRF token.'),
    defaultNode: z.string().max(63).optional()
      .describe('Node that new VMs and downloads use when a VirtualMachine does not name one.'),
    isoStorage: z.string().max(63).default('local')
      .describe('Storage (content type iso) that URL-sourced ISOs are downloaded into.'),
    snippetStorage: z.string().max(63).optional()
      .describe('Storage (content type snippets) for full cloud-init user-data passed through cicustom.'),
    maxConcurrentTasksPerNode: z.number().int().min(1).max(64).default(4)
      .describe('Upper bound on mutating tasks bootplane runs at once on one node; PVE times out config locks under heavy parallel change.'),
  })
  .describe('How to reach a Proxmox VE cluster.');
export type ProxmoxConnection = z.infer<typeof ProxmoxConnection>;

export const LibvirtConnection = z
  .object({
    uri: z.string().min(5).max(2048).regex(/^(qemu|test)(\+(unix|tcp|tls|ssh))?:\/\/[^\s]*$/)
      .describe('libvirt connection URI: qemu:///system (unix socket), qemu+tcp://host/system, qemu+tls://host/system (client certificate from the credentials Secret) or qemu+ssh://user@host/system (key from the credentials Secret).'),
    storagePool: z.string().max(63).default('default')
      .describe('Storage pool that new disk volumes and cloud-init seed ISOs are created in.'),
    isoPool: z.string().max(63).optional()
      .describe('Storage pool holding installer ISOs; defaults to storagePool.'),
    maxInFlightCalls: z.number().int().min(1).max(64).default(5)
      .describe('Upper bound on RPC calls in flight on one connection (libvirtd allows 5 per client by default).'),
    domainType: z.enum(['auto', 'kvm', 'qemu']).default('auto')
      .describe('Domain type of VMs bootplane creates: kvm, qemu (TCG emulation), or auto (kvm when the host\'s capabilities offer it).'),
  })
  .describe('How to reach a libvirt daemon.');
export type LibvirtConnection = z.infer<typeof LibvirtConnection>;

export const TlsTrust = z
  .object({
    caSecretKey: z.string().max(253).optional()
      .describe('Key in the credentials Secret holding the PEM CA bundle the server certificate must chain to (for Proxmox, the cluster CA /etc/pve/pve-root-ca.pem).'),
    fingerprintSHA256: z.string().max(95).regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/).optional()
      .describe('SHA-256 fingerprint of the server certificate (AA:BB:... as Proxmox shows it); when set, only this certificate is accepted.'),
    insecureSkipVerify: z.boolean().default(false)
      .describe('Accept any server certificate. Only for throw-away labs: the Hypervisor reports an InsecureTLS warning condition while set.'),
  })
  .describe('How the server\'s TLS certificate is verified.');

export const HypervisorSpec = z
  .object({
    type: HypervisorType,
    proxmox: ProxmoxConnection.optional(),
    libvirt: LibvirtConnection.optional(),
    credentialsSecretRef: NamespacedSecretReference.optional()
      .describe('Secret with the credentials: tokenId/tokenSecret or username/password for Proxmox; tls.crt/tls.key/ca.crt or ssh-privatekey/known_hosts for libvirt. Watched: a rotated Secret is picked up without restart.'),
    tls: TlsTrust.optional(),
    safeMode: z.boolean().default(false)
      .describe('Plan and report, change nothing: every VM on this hypervisor gets its plan in status and no write reaches the hypervisor.'),
    inventoryIntervalSeconds: z.number().int().min(30).max(86400).default(300)
      .describe('How often versions, nodes, storages and ISO volumes are read into status.'),
    requestTimeoutSeconds: z.number().int().min(1).max(600).default(30)
      .describe('Timeout of one API or RPC call to the hypervisor.'),
  })
  .meta({
    description: 'Desired connection to a hypervisor.',
    'x-kubernetes-validations': [
      { rule: "self.type != 'proxmox' || has(self.proxmox)", message: 'spec.proxmox is required when spec.type is proxmox', fieldPath: '.proxmox' },
      { rule: "self.type != 'libvirt' || has(self.libvirt)", message: 'spec.libvirt is required when spec.type is libvirt', fieldPath: '.libvirt' },
      { rule: "!(has(self.proxmox) && has(self.libvirt))", message: 'set only one of spec.proxmox and spec.libvirt' },
      { rule: "self.type != 'proxmox' || has(self.credentialsSecretRef)", message: 'spec.credentialsSecretRef is required for Proxmox (an API token or a user login)', fieldPath: '.credentialsSecretRef' },
      { rule: 'self.type == oldSelf.type', message: 'spec.type is immutable: create a new Hypervisor to switch hypervisor kinds', fieldPath: '.type' },
      { rule: "!has(self.tls) || !has(self.tls.fingerprintSHA256) || !self.tls.insecureSkipVerify", message: 'spec.tls.fingerprintSHA256 and spec.tls.insecureSkipVerify contradict each other', fieldPath: '.tls' },
    ],
  });
export type HypervisorSpec = z.infer<typeof HypervisorSpec>;

export const HypervisorStatus = z
  .object({
    observedGeneration: observedGeneration(),
    conditions: Conditions.optional(),
    endpoint: z.string().max(2048).optional().describe('The endpoint or URI last contacted, for the printer column.'),
    version: z.string().max(256).optional().describe('Hypervisor software version as the hypervisor reports it.'),
    lastInventoryTime: timestamp('When nodes, storages and ISOs were last read.').optional(),
    nodes: z
      .array(
        z.object({
          name: z.string().max(63).describe('Node (Proxmox) or host (libvirt) name.'),
          online: z.boolean().describe('Whether the node answered.'),
        }).describe('One node of the hypervisor.'),
      )
      .max(128)
      .optional()
      .describe('Nodes of the cluster (one entry for a libvirt host).'),
    storages: z
      .array(
        z.object({
          name: z.string().max(63).describe('Storage (Proxmox) or storage pool (libvirt) name.'),
          node: z.string().max(63).optional().describe('Node the storage was read on.'),
          type: z.string().max(63).optional().describe('Storage type, for example dir, lvmthin, zfspool.'),
          content: z.array(z.string().max(32)).max(16).optional().describe('Content types the storage holds (iso, images, snippets...).'),
          totalBytes: z.number().int().min(0).optional().describe('Capacity in bytes.'),
          availableBytes: z.number().int().min(0).optional().describe('Free space in bytes.'),
        }).describe('One storage or storage pool.'),
      )
      .max(256)
      .optional()
      .describe('Storages and pools visible to bootplane.'),
    isos: z
      .array(
        z.object({
          volume: z.string().max(1024).describe('Volume ID (local:iso/debian.iso) or pool/volume name.'),
          sizeBytes: z.number().int().min(0).optional().describe('Size in bytes.'),
        }).describe('One ISO image on hypervisor storage.'),
      )
      .max(2000)
      .optional()
      .describe('ISO images on ISO storages, for choosing an installer.'),
  })
  .describe('Observed state of the connection.');
export type HypervisorStatus = z.infer<typeof HypervisorStatus>;

export const Hypervisor = z.object({
  apiVersion: z.string(),
  kind: z.literal('Hypervisor'),
  metadata: ObjectMeta,
  spec: HypervisorSpec,
  status: HypervisorStatus.optional(),
});
export type Hypervisor = z.infer<typeof Hypervisor>;
