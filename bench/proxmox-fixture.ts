// A PVE simulator with one VM per bench VirtualMachine (vm-00000.. on pve0..pve3, vmid 1000+i,
// cloud-init on ide2 as PVE's wizard leaves it), the bench-pve Hypervisor pointing at it, one
// IsoAttachment per VM, and the real controller running in this process.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseControllerConfig } from '../src/config/config.js';
import { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import type { KubeClient } from '../src/kube/client.js';
import { KubeApiError } from '../src/kube/errors.js';
import { bootplaneResource, collectionPath, objectPath } from '../src/kube/resources.js';
import { runController, type RunningController } from '../src/main.js';
import type { reconcileMetrics, statusMetrics } from '../src/observability/metrics.js';
import { silentLogger } from '../src/observability/logger.js';
import { KUBECONFIG } from '../test/support/paths.js';
import { BENCH_NAMESPACE, ensureVms, vmManifest } from './fixtures.js';

export const ISO_VOLUME = 'local:iso/bench-installer.iso';
const TOKEN_ID = 'root@pam!bench';
const TOKEN_SECRET = '11111111-2222-4333-8444-555555555555';

export interface ProxmoxBench {
  sim: PveSimulator;
  controller?: RunningController;
  count: number;
}

export async function setUpProxmoxBench(client: KubeClient, wanted: number): Promise<ProxmoxBench> {
  await ensureVms(client, wanted);
  // Every bench VM names bench-pve: the simulator gets one for each that exists, not fewer.
  const existing = await client.request<{ items: unknown[] }>(collectionPath(bootplaneResource('VirtualMachine'), BENCH_NAMESPACE), { query: { labelSelector: 'bench.bootplane.io/set=scale' }, timeoutMs: 120_000 });
  const count = Math.max(wanted, existing.items.length);
  const sim = new PveSimulator({ nodes: ['pve0', 'pve1', 'pve2', 'pve3'] });
  sim.auth.addToken(TOKEN_ID, TOKEN_SECRET);
  sim.cluster.addIso(ISO_VOLUME);
  for (let i = 0; i < count; i++) {
    const { metadata, spec } = vmManifest(i);
    const vmid = spec.proxmox.vmid;
    sim.cluster.addVm({ vmid, node: spec.proxmox.node, config: {
      name: metadata.name, ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=8G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`,
      net0: `virtio=BC:24:11:${hex(i >> 16)}:${hex(i >> 8)}:${hex(i)},bridge=vmbr0`, boot: 'order=scsi0;net0',
    } });
  }
  await sim.start();
  await upsert(client, '/api/v1/namespaces/' + BENCH_NAMESPACE + '/secrets', {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bench-pve', namespace: BENCH_NAMESPACE },
    stringData: { tokenId: TOKEN_ID, tokenSecret: TOKEN_SECRET, 'ca.crt': sim.certificate.cert },
  });
  await upsert(client, collectionPath(bootplaneResource('Hypervisor')), {
    apiVersion: 'bootplane.io/v1alpha1', kind: 'Hypervisor', metadata: { name: 'bench-pve' },
    spec: { type: 'proxmox', proxmox: { endpoint: sim.endpoint }, credentialsSecretRef: { name: 'bench-pve', namespace: BENCH_NAMESPACE }, tls: { caSecretKey: 'ca.crt' } },
  });
  await deleteAttachments(client);
  const type = bootplaneResource('IsoAttachment');
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < count) {
      const i = next++;
      const name = vmManifest(i).metadata.name;
      await client.request(collectionPath(type, BENCH_NAMESPACE), { method: 'POST', body: {
        apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name: `iso-${name}`, namespace: BENCH_NAMESPACE },
        spec: { vmRef: { name }, source: { volume: ISO_VOLUME } },
      } });
    }
  }));
  return { sim, count };
}

export async function startController(bench: ProxmoxBench, resyncSeconds = 0): Promise<void> {
  bench.controller = await runController(parseControllerConfig({ kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', bootAddr: ':0', consoleAddr: ':0', concurrency: 16, resyncSeconds }), silentLogger());
}

/** Every simulated VM has the ISO attached and the cloud-init drive moved to SCSI (debian, auto). */
export function converged(bench: ProxmoxBench): boolean {
  for (const vm of bench.sim.cluster.vms.values()) {
    const values = Object.entries(vm.config);
    if (!values.some(([, v]) => v.startsWith(`${ISO_VOLUME},`))) return false;
    if (!values.some(([k, v]) => k.startsWith('scsi') && v.includes('cloudinit'))) return false;
  }
  return true;
}

export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits until no PVE call has been made for quietMs. */
export async function quiet(bench: ProxmoxBench, quietMs = 2_000): Promise<void> {
  let last = bench.sim.calls.length;
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    await sleep(200);
    if (bench.sim.calls.length !== last) {
      last = bench.sim.calls.length;
      since = Date.now();
    }
  }
}

export async function counter(metric: typeof statusMetrics.writes | typeof reconcileMetrics.total, labels: Record<string, string>): Promise<number> {
  const values = (await metric.get()).values;
  return values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((n, v) => n + v.value, 0);
}

export async function tearDownProxmoxBench(client: KubeClient, bench: ProxmoxBench): Promise<void> {
  await bench.controller?.stop();
  await deleteAttachments(client);
  // Leave the shared bench VMs as other benchmarks expect them: no finalizer of ours.
  const vms = bootplaneResource('VirtualMachine');
  for (let i = 0; i < bench.count; i++) {
    await client.request(objectPath(vms, BENCH_NAMESPACE, vmManifest(i).metadata.name), { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } }).catch(() => undefined);
  }
  const hv = objectPath(bootplaneResource('Hypervisor'), undefined, 'bench-pve');
  await client.request(hv, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } }).catch(() => undefined);
  await client.request(hv, { method: 'DELETE' }).catch(() => undefined);
  await bench.sim.stop();
}

async function deleteAttachments(client: KubeClient): Promise<void> {
  const type = bootplaneResource('IsoAttachment');
  const list = await client.request<{ items: { metadata: { name: string } }[] }>(collectionPath(type, BENCH_NAMESPACE), { timeoutMs: 120_000 });
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < list.items.length) {
      const path = objectPath(type, BENCH_NAMESPACE, list.items[next++]!.metadata.name);
      await client.request(path, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { finalizers: null } } }).catch(() => undefined);
      await client.request(path, { method: 'DELETE' }).catch(() => undefined);
    }
  }));
}

async function upsert(client: KubeClient, collection: string, body: { metadata: { name: string; namespace?: string }; [key: string]: unknown }): Promise<void> {
  try {
    await client.request(collection, { method: 'POST', body });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.isConflict)) throw err;
    await client.request(`${collection}/${body.metadata.name}`, { method: 'PUT', body: { ...body, metadata: { ...body.metadata, resourceVersion: (await client.request<{ metadata: { resourceVersion: string } }>(`${collection}/${body.metadata.name}`)).metadata.resourceVersion } } });
  }
}

function hex(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0').toUpperCase();
}
