// The Proxmox VE implementation of HypervisorDriver: the client speaks the API, this file turns
// a Hypervisor's spec and Secret into a connection and the API's answers into the driver's
// neutral shapes. Long tasks are returned (UPIDs), never awaited.
import type { Hypervisor } from '../../api/v1alpha1/hypervisor.js';
import type { ObservedVm, Plan } from '../../planning/model.js';
import type { SecretData } from '../../store/store.js';
import {
  DriverError, type ApplyOutcome, type DriverFactory, type HypervisorDriver, type HypervisorInventory, type PowerAction, type TaskStatus, type VmRef,
} from '../driver.js';
import type { ProxmoxClient } from './client/api.js';
import { createProxmoxClient } from './client/create.js';
import type { PveCredentials } from './client/transport.js';
import { taskExitIsError } from './client/upid.js';

// Status lists have schema limits (hypervisor.ts); a cluster with more is summarised, not refused.
const MAX_NODES = 128;
const MAX_STORAGES = 256;
const MAX_ISOS = 2000;

export class ProxmoxDriver implements HypervisorDriver {
  constructor(readonly client: ProxmoxClient) {}

  async inventory(signal: AbortSignal): Promise<HypervisorInventory> {
    const version = await this.client.version({ signal });
    const nodes = (await this.client.nodes({ signal })).sort((a, b) => a.node.localeCompare(b.node)).slice(0, MAX_NODES);
    const online = nodes.filter((n) => n.status === 'online');
    const perNode = await Promise.all(online.map(async (n) => {
      const node = this.client.node(n.node);
      const storages = (await node.storages({ enabled: true }, { signal })).sort((a, b) => a.storage.localeCompare(b.storage));
      const isoStorages = storages.filter((s) => s.content.split(',').includes('iso') && s.active !== 0);
      const isos = (await Promise.all(isoStorages.map((s) => node.storage(s.storage).content({ content: 'iso' }, { signal })))).flat();
      return { node: n.node, storages, isos };
    }));

    // A shared storage (NFS, Ceph) shows up on every node: report it, and its ISOs, once.
    const storages: HypervisorInventory['storages'] = [];
    const seenShared = new Set<string>();
    const isos = new Map<string, { volume: string; sizeBytes?: number }>();
    for (const { node, storages: list, isos: found } of perNode) {
      for (const s of list) {
        if (s.shared) {
          if (seenShared.has(s.storage)) continue;
          seenShared.add(s.storage);
        }
        storages.push({
          name: s.storage, ...(s.shared ? {} : { node }), type: s.type,
          content: s.content.split(',').filter(Boolean).slice(0, 16),
          ...(s.total !== undefined ? { totalBytes: s.total } : {}),
          ...(s.avail !== undefined ? { availableBytes: s.avail } : {}),
        });
      }
      for (const iso of found) if (!isos.has(iso.volid)) isos.set(iso.volid, { volume: iso.volid, sizeBytes: iso.size });
    }
    return {
      version: version.version,
      nodes: nodes.map((n) => ({ name: n.node, online: n.status === 'online' })),
      storages: storages.slice(0, MAX_STORAGES),
      isos: [...isos.values()].sort((a, b) => a.volume.localeCompare(b.volume)).slice(0, MAX_ISOS),
    };
  }

  async readVm(ref: VmRef, signal: AbortSignal): Promise<ObservedVm | undefined> {
    void ref; void signal;
    throw new DriverError('NotImplemented', 'Reading a Proxmox VM needs the PVE config reader, which this build does not include yet.');
  }

  async applyPlan(ref: VmRef, observed: ObservedVm, plan: Plan, signal: AbortSignal): Promise<ApplyOutcome> {
    void ref; void observed; void plan; void signal;
    throw new DriverError('NotImplemented', 'Applying a plan to a Proxmox VM needs the plan writer, which this build does not include yet.');
  }

  async taskStatus(_ref: VmRef, task: string, signal: AbortSignal): Promise<TaskStatus> {
    const status = await this.client.taskStatus(task, { signal });
    if (status.status === 'running') return { done: false };
    const exit = status.exitstatus ?? 'unexpected status';
    return { done: true, ok: !taskExitIsError(exit), message: exit };
  }

  async power(ref: VmRef, action: PowerAction, signal: AbortSignal): Promise<{ task?: string }> {
    const { node, vmid } = vmOf(ref);
    const status = this.client.node(node).qemu(vmid).status;
    const task = await (action === 'start' ? status.start({ signal })
      : action === 'stop' ? status.stop({ signal })
        : action === 'shutdown' ? status.shutdown({ signal })
          : status.reboot({ signal }));
    return { task };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export function vmOf(ref: VmRef): { node: string; vmid: number } {
  if (!ref.node || ref.vmid === undefined) throw new DriverError('InvalidVmRef', 'A Proxmox VM is named by node and vmid (spec.proxmox.node and spec.proxmox.vmid).');
  return { node: ref.node, vmid: ref.vmid };
}

/** Credentials from the Secret: an API token (tokenId, tokenSecret) or a login (username, password). */
export function proxmoxCredentials(hypervisor: Hypervisor, secret: SecretData | undefined): PveCredentials {
  const data = secret?.data ?? {};
  const where = secret ? `Secret ${secret.namespace}/${secret.name}` : 'the credentials Secret';
  if (hypervisor.spec.proxmox?.authMethod === 'ticket') {
    if (!data.username || !data.password) throw new DriverError('MissingKeys', `${where} needs keys username and password for ticket login.`);
    return { kind: 'ticket', username: data.username, password: data.password };
  }
  if (!data.tokenId || !data.tokenSecret) throw new DriverError('MissingKeys', `${where} needs keys tokenId and tokenSecret for API token auth.`);
  return { kind: 'token', tokenId: data.tokenId, secret: data.tokenSecret };
}

export const proxmoxDriverFactory: DriverFactory = (hypervisor, secret) => {
  const proxmox = hypervisor.spec.proxmox;
  if (!proxmox) throw new DriverError('InvalidSpec', 'spec.proxmox is required for a Proxmox hypervisor.');
  const tls = hypervisor.spec.tls;
  const caKey = tls?.caSecretKey;
  const ca = caKey ? secret?.data[caKey] : undefined;
  if (caKey && !ca) throw new DriverError('MissingKeys', `The credentials Secret lacks key ${caKey} (spec.tls.caSecretKey).`);
  const client = createProxmoxClient({
    endpoint: proxmox.endpoint,
    credentials: proxmoxCredentials(hypervisor, secret),
    tls: { ca, fingerprintSHA256: tls?.fingerprintSHA256, insecureSkipVerify: tls?.insecureSkipVerify ?? false },
    requestTimeoutMs: (hypervisor.spec.requestTimeoutSeconds ?? 30) * 1000,
    maxConcurrentTasksPerNode: proxmox.maxConcurrentTasksPerNode,
  });
  return new ProxmoxDriver(client);
};
