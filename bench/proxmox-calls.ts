// `proxmox-calls`: what one steady-state resync costs once N VMs (default 1,000) with an
// IsoAttachment each have converged on the PVE simulator: PVE calls per VM reconcile (target:
// one config read), PVE writes (target: zero) and API-server status writes (target: zero).
import { setTimeout as sleep } from 'node:timers/promises';
import { reconcileMetrics, statusMetrics } from '../src/observability/metrics.js';
import { bootplaneResource, collectionPath } from '../src/kube/resources.js';
import { BENCH_NAMESPACE, benchClient } from './fixtures.js';
import { converged, counter, quiet, setUpProxmoxBench, startController, tearDownProxmoxBench, waitFor } from './proxmox-fixture.js';
import { report } from './report.js';

const WANTED = Number(process.env.BENCH_VMS ?? 1000);
const RESYNC_SECONDS = 20;

/** No PVE call and no status write for a few seconds: the pass before has run out. */
async function settled(bench: Parameters<typeof quiet>[0]): Promise<void> {
  for (;;) {
    const writes = await counter(statusMetrics.writes, {});
    await quiet(bench, 3_000);
    if ((await counter(statusMetrics.writes, {})) === writes) return;
  }
}

export async function run(): Promise<void> {
  const client = await benchClient(32);
  const bench = await setUpProxmoxBench(client, WANTED);
  const VMS = bench.count;
  try {
    await startController(bench, RESYNC_SECONDS);
    await waitFor('every VM converged on the simulator', () => converged(bench));
    await waitFor('every IsoAttachment Attached', async () => {
      const list = await client.request<{ items: { status?: { phase?: string } }[] }>(collectionPath(bootplaneResource('IsoAttachment'), BENCH_NAMESPACE), { timeoutMs: 60_000 });
      return list.items.length >= VMS && list.items.every((i) => i.status?.phase === 'Attached');
    });
    await settled(bench);
    const reconciles = () => counter(reconcileMetrics.total, { controller: 'virtualmachine' });
    const writesOf = (kind: string) => counter(statusMetrics.writes, { kind });
    const before = { calls: bench.sim.calls.length, writes: await counter(statusMetrics.writes, {}), reconciles: await reconciles(), vmWrites: await writesOf('VirtualMachine'), isoWrites: await writesOf('IsoAttachment') };
    // The informers' resync enqueues every object once; wait for that pass to finish.
    await waitFor('one resync of every VM', async () => (await reconciles()) - before.reconciles >= VMS, (RESYNC_SECONDS + 120) * 1000);
    await sleep(500);
    await settled(bench);
    const calls = bench.sim.calls.slice(before.calls);
    const vmReconciles = (await reconciles()) - before.reconciles;
    const byKind = (re: RegExp) => calls.filter((c) => re.test(c)).length;
    report({
      name: 'proxmox-calls', unit: 'PVE calls per VM per resync', value: calls.length / VMS,
      vms: VMS, vmReconciles, configReads: byKind(/^GET .*\/qemu\/\d+\/pending$/), statusReads: byKind(/^GET .*\/qemu\/\d+\/status\/current$/),
      nodeListReads: byKind(/^GET \/nodes\/[^/]+\/qemu$/), storageReads: byKind(/\/storage\//), pveWrites: calls.filter((c) => !c.startsWith('GET')).length,
      apiStatusWrites: (await counter(statusMetrics.writes, {})) - before.writes,
      vmStatusWrites: (await writesOf('VirtualMachine')) - before.vmWrites, isoStatusWrites: (await writesOf('IsoAttachment')) - before.isoWrites,
    });
  } finally {
    await tearDownProxmoxBench(client, bench);
    await client.close();
  }
}
