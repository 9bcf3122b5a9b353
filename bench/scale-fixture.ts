// Objects for the scale benchmarks, made from scratch each run: a fresh namespace labelled
// bench.bootplane.io/scale, N Debian VMs on the PVE simulator (cloud-init on ide2 as PVE's
// wizard leaves it), their VirtualMachines and one IsoAttachment each, and the scale-pve
// Hypervisor. Left-overs of an interrupted run are removed first, so no stale object is
// reconciled alongside the new ones.
import { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import type { KubeClient } from '../src/kube/client.js';
import { KubeApiError } from '../src/kube/errors.js';
import { bootplaneResource, collectionPath, objectPath } from '../src/kube/resources.js';

export function hypervisorFor(purpose: string): string {
  return `${purpose}-pve`;
}
export const SCALE_ISO = 'local:iso/scale-installer.iso';
const SCALE_LABEL = 'bench.bootplane.io/scale';
const TOKEN_ID = 'root@pam!scale';
const TOKEN_SECRET = '21111111-2222-4333-8444-555555555555';
const IN_FLIGHT = 32;

export interface Scale {
  purpose: string;
  namespace: string;
  sim: PveSimulator;
  vmNames: string[];
}

export function scaleVmName(i: number): string {
  return `vm-${String(i).padStart(5, '0')}`;
}

/** `purpose` (scale, steady, soak) keeps benchmarks running side by side apart: each cleans up its own. */
export async function setUpScale(client: KubeClient, count: number, purpose = 'scale'): Promise<Scale> {
  await removeScaleLeftovers(client, purpose);
  const namespace = `bootplane-${purpose}-${Date.now().toString(36)}`;
  const hypervisor = hypervisorFor(purpose);
  await client.request('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { [SCALE_LABEL]: purpose } } } });
  const sim = new PveSimulator({ nodes: ['pve0', 'pve1', 'pve2', 'pve3'] });
  sim.auth.addToken(TOKEN_ID, TOKEN_SECRET);
  sim.cluster.addIso(SCALE_ISO);
  const vmNames: string[] = [];
  for (let i = 0; i < count; i++) {
    const vmid = 1000 + i;
    const name = scaleVmName(i);
    vmNames.push(name);
    sim.cluster.addVm({ vmid, node: `pve${i % 4}`, config: {
      name, ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=8G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`,
      net0: `virtio=BC:24:12:${hex(i >> 16)}:${hex(i >> 8)}:${hex(i)},bridge=vmbr0`, boot: 'order=scsi0;net0',
    } });
  }
  await sim.start();
  await client.request(`/api/v1/namespaces/${namespace}/secrets`, { method: 'POST', body: {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: hypervisor, namespace },
    stringData: { tokenId: TOKEN_ID, tokenSecret: TOKEN_SECRET, 'ca.crt': sim.certificate.cert },
  } });
  await client.request(collectionPath(bootplaneResource('Hypervisor')), { method: 'POST', body: {
    apiVersion: 'bootplane.io/v1alpha1', kind: 'Hypervisor', metadata: { name: hypervisor, labels: { [SCALE_LABEL]: purpose } },
    spec: { type: 'proxmox', proxmox: { endpoint: sim.endpoint }, credentialsSecretRef: { name: hypervisor, namespace }, tls: { caSecretKey: 'ca.crt' } },
  } });
  const vms = bootplaneResource('VirtualMachine');
  const isos = bootplaneResource('IsoAttachment');
  await inParallel(count, async (i) => {
    const name = scaleVmName(i);
    await client.request(collectionPath(vms, namespace), { method: 'POST', body: {
      apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace },
      spec: {
        hypervisorRef: { name: hypervisor }, proxmox: { node: `pve${i % 4}`, vmid: 1000 + i },
        osFamily: 'debian', bootOrder: { preset: 'hd' }, cloudInit: { placement: 'auto', user: 'debian', ipConfigs: [{ ip: 'dhcp' }] },
      },
    } });
    await client.request(collectionPath(isos, namespace), { method: 'POST', body: {
      apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name: `iso-${name}`, namespace },
      spec: { vmRef: { name }, source: { volume: SCALE_ISO } },
    } });
  });
  return { purpose, namespace, sim, vmNames };
}

/**
 * scaleConverged for polling while a fleet converges from scratch: each check looks only at the
 * VMs not seen converged yet (a full pass over 10,000 configs every half second took CPU from
 * the processes being measured). The caller confirms with scaleConverged at the end.
 */
export function convergenceWatch(scale: Scale): () => boolean {
  let waiting = [...scale.sim.cluster.vms.values()];
  return () => {
    waiting = waiting.filter((vm) => !vmConverged(vm.config));
    return waiting.length === 0;
  };
}

function vmConverged(config: Record<string, string>): boolean {
  const values = Object.entries(config);
  return values.some(([, v]) => v.startsWith(`${SCALE_ISO},`)) && values.some(([k, v]) => k.startsWith('scsi') && v.includes('cloudinit'));
}

/** Every simulated VM has the ISO attached and its cloud-init drive on SCSI. */
export function scaleConverged(scale: Scale): boolean {
  for (const vm of scale.sim.cluster.vms.values()) if (!vmConverged(vm.config)) return false;
  return true;
}

export async function isoAttachmentsAttached(client: KubeClient, scale: Scale): Promise<boolean> {
  // resourceVersion=0 is served from the API server's watch cache: cheap enough to poll.
  const list = await client.request<{ items: { status?: { phase?: string } }[] }>(collectionPath(bootplaneResource('IsoAttachment'), scale.namespace), { query: { resourceVersion: '0' }, timeoutMs: 120_000 });
  return list.items.length >= scale.vmNames.length && list.items.every((i) => i.status?.phase === 'Attached');
}

export async function tearDownScale(client: KubeClient, scale: Scale): Promise<void> {
  await removeScaleLeftovers(client, scale.purpose);
  await scale.sim.stop();
}

/**
 * Scale namespaces and the scale Hypervisor, finalizers stripped (no controller runs now). The
 * test control plane has no namespace controller: objects are deleted here and the namespace
 * finalized by hand, or it would stay Terminating with its objects.
 */
export async function removeScaleLeftovers(client: KubeClient, purpose: string): Promise<void> {
  const namespaces = await client.request<{ items: { metadata: { name: string } }[] }>('/api/v1/namespaces', { query: { labelSelector: `${SCALE_LABEL}=${purpose}` } });
  for (const { metadata: { name: namespace } } of namespaces.items) {
    for (const kind of ['IsoAttachment', 'VirtualMachine'] as const) {
      const type = bootplaneResource(kind);
      const list = await client.request<{ items: { metadata: { name: string; finalizers?: string[] } }[] }>(collectionPath(type, namespace), { timeoutMs: 300_000 });
      const held = list.items.filter((o) => o.metadata.finalizers?.length);
      await inParallel(held.length, (i) => ignoreNotFound(client.request(objectPath(type, namespace, held[i]!.metadata.name), { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } })));
      await deleteAll(client, collectionPath(type, namespace));
    }
    await ignoreNotFound(client.request(`/api/v1/namespaces/${namespace}/secrets`, { method: 'DELETE' }));
    await ignoreNotFound(deleteAll(client, `/api/v1/namespaces/${namespace}/events`));
    await ignoreNotFound(client.request(`/api/v1/namespaces/${namespace}`, { method: 'DELETE' }));
    await ignoreNotFound(client.request(`/api/v1/namespaces/${namespace}/finalize`, { method: 'PUT', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace }, spec: { finalizers: [] } } }));
  }
  const hv = objectPath(bootplaneResource('Hypervisor'), undefined, hypervisorFor(purpose));
  await ignoreNotFound(client.request(hv, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } }));
  await ignoreNotFound(client.request(hv, { method: 'DELETE' }));
}

/**
 * A collection delete of 10,000 objects outlasts kube-apiserver's 60 s request timeout (504),
 * though it goes on deleting: asked again until it completes.
 */
async function deleteAll(client: KubeClient, path: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.request(path, { method: 'DELETE', timeoutMs: 300_000 });
      return;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 504) || attempt >= 20) throw err;
    }
  }
}

async function inParallel(count: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) await work(next++);
  }));
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
  }
}

function hex(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0').toUpperCase();
}
