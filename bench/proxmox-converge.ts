// `proxmox-converge`: N VirtualMachines (default 1,000), each with an IsoAttachment, converge
// from scratch on the PVE simulator: the planner moves each Debian VM's cloud-init drive from
// ide2 to SCSI, attaches the ISO and sets the boot order, and every IsoAttachment reports
// Attached. The ceiling is the API server's own status-write rate measured in the same run
// (status-writes): at that rate, one status write per object would take (2 × N) / rate
// seconds; ratio = converge seconds / that.
import { bootplaneResource, collectionPath } from '../src/kube/resources.js';
import { statusMetrics } from '../src/observability/metrics.js';
import { BENCH_NAMESPACE, benchClient } from './fixtures.js';
import { converged, counter, setUpProxmoxBench, startController, tearDownProxmoxBench, waitFor } from './proxmox-fixture.js';
import { report } from './report.js';
import { measureStatusWrites } from './status-writes.js';

const VMS = Number(process.env.BENCH_VMS ?? 1000);

export async function run(): Promise<void> {
  const ceiling = await measureStatusWrites(1000, 32, VMS);
  const client = await benchClient(32);
  const bench = await setUpProxmoxBench(client, VMS);
  try {
    const writesBefore = await counter(statusMetrics.writes, {});
    const started = performance.now();
    await startController(bench);
    await waitFor('every VM converged on the simulator', () => converged(bench));
    await waitFor('every IsoAttachment Attached', async () => {
      const list = await client.request<{ items: { status?: { phase?: string } }[] }>(collectionPath(bootplaneResource('IsoAttachment'), BENCH_NAMESPACE), { timeoutMs: 60_000 });
      return list.items.length >= VMS && list.items.every((i) => i.status?.phase === 'Attached');
    });
    const seconds = (performance.now() - started) / 1000;
    const ideal = (2 * VMS) / ceiling;
    const writes = bench.sim.calls.filter((c) => !c.startsWith('GET')).length;
    report({
      name: 'proxmox-converge', unit: 's', value: seconds,
      peer: 'status-writes ceiling (2 status writes per VM at the measured rate)', peerValue: ideal, ratio: seconds / ideal,
      vms: VMS, ceilingPatchesPerSecond: ceiling, pveCalls: bench.sim.calls.length, pveWrites: writes,
      apiStatusWrites: (await counter(statusMetrics.writes, {})) - writesBefore, schemaViolations: bench.sim.schemaViolations.length,
    });
  } finally {
    await tearDownProxmoxBench(client, bench);
    await client.close();
  }
}
