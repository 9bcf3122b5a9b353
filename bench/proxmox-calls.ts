// `proxmox-calls`: what one steady-state resync costs once N VMs (default 1,000) with an
// IsoAttachment each have converged on the PVE simulator: PVE calls per VM reconcile (target:
// one config read), PVE writes (target: zero) and API-server status writes (target: zero).
import { setTimeout as sleep } from 'node:timers/promises';
import { reconcileMetrics, statusMetrics } from '../src/observability/metrics.js';
import { benchClient } from './fixtures.js';
import { converged, counter, quiet, setUpProxmoxBench, startController, tearDownProxmoxBench, waitFor } from './proxmox-fixture.js';
import { report } from './report.js';

const VMS = Number(process.env.BENCH_VMS ?? 1000);
const RESYNC_SECONDS = 20;

export async function run(): Promise<void> {
  const client = await benchClient(32);
  const bench = await setUpProxmoxBench(client, VMS);
  try {
    await startController(bench, RESYNC_SECONDS);
    await waitFor('every VM converged on the simulator', () => converged(bench));
    await quiet(bench, 3_000);
    const reconciles = () => counter(reconcileMetrics.total, { controller: 'virtualmachine' });
    const before = { calls: bench.sim.calls.length, writes: await counter(statusMetrics.writes, {}), reconciles: await reconciles() };
    // The informers' resync enqueues every object once; wait for that pass to finish.
    await waitFor('one resync of every VM', async () => (await reconciles()) - before.reconciles >= VMS, (RESYNC_SECONDS + 120) * 1000);
    await sleep(500);
    await quiet(bench, 3_000);
    const calls = bench.sim.calls.slice(before.calls);
    const vmReconciles = (await reconciles()) - before.reconciles;
    const byKind = (re: RegExp) => calls.filter((c) => re.test(c)).length;
    report({
      name: 'proxmox-calls', unit: 'PVE calls per VM per resync', value: calls.length / VMS,
      vms: VMS, vmReconciles, configReads: byKind(/^GET .*\/qemu\/\d+\/pending$/), statusReads: byKind(/^GET .*\/qemu\/\d+\/status\/current$/),
      nodeListReads: byKind(/^GET \/nodes\/[^/]+\/qemu$/), storageReads: byKind(/\/storage\//), pveWrites: calls.filter((c) => !c.startsWith('GET')).length,
      apiStatusWrites: (await counter(statusMetrics.writes, {})) - before.writes,
    });
  } finally {
    await tearDownProxmoxBench(client, bench);
    await client.close();
  }
}
