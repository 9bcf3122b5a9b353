// Objects for benchmarks against the real control plane, created once and reused across runs.
import { KubeClient } from '../src/kube/client.js';
import { KubeApiError } from '../src/kube/errors.js';
import { bootplaneResource, collectionPath } from '../src/kube/resources.js';
import { KUBECONFIG } from '../test/support/paths.js';

export const BENCH_NAMESPACE = 'bootplane-bench';

export function benchClient(connections = 64): Promise<KubeClient> {
  return KubeClient.create({ kubeconfigPath: KUBECONFIG, connections, userAgent: 'bootplane-bench' });
}

export function vmManifest(i: number) {
  return {
    apiVersion: 'bootplane.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: { name: `vm-${String(i).padStart(5, '0')}`, namespace: BENCH_NAMESPACE, labels: { 'bench.bootplane.io/set': 'scale' } },
    spec: {
      hypervisorRef: { name: 'bench-pve' },
      proxmox: { node: `pve${i % 4}`, vmid: 1000 + i },
      osFamily: 'debian',
      bootOrder: { preset: 'hd' },
      cloudInit: { placement: 'auto', user: 'debian', ipConfigs: [{ ip: 'dhcp' }] },
    },
  };
}

export async function ensureNamespace(client: KubeClient): Promise<void> {
  try {
    await client.request('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BENCH_NAMESPACE } } });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.isConflict)) throw err;
  }
}

/** Makes sure vm-00000 .. vm-(count-1) exist; returns how many were created now. */
export async function ensureVms(client: KubeClient, count: number, inFlight = 32): Promise<number> {
  await ensureNamespace(client);
  const type = bootplaneResource('VirtualMachine');
  const existing = await client.request<{ items: { metadata: { name: string } }[] }>(collectionPath(type, BENCH_NAMESPACE), { query: { labelSelector: 'bench.bootplane.io/set=scale' }, timeoutMs: 120_000 });
  const have = new Set(existing.items.map((i) => i.metadata.name));
  const todo: number[] = [];
  for (let i = 0; i < count; i++) if (!have.has(vmManifest(i).metadata.name)) todo.push(i);
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < todo.length) {
      const i = todo[next++]!;
      await client.request(collectionPath(type, BENCH_NAMESPACE), { method: 'POST', body: vmManifest(i) });
    }
  }));
  return todo.length;
}
