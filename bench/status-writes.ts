// `status-writes`: the control plane's own /status merge-patch throughput from one client with
// a tight loop and N requests in flight — the ceiling against which convergence is judged.
import { bootplaneResource, objectPath } from '../src/kube/resources.js';
import { BENCH_NAMESPACE, benchClient, ensureVms } from './fixtures.js';
import { report } from './report.js';

const PATCHES = Number(process.env.BENCH_PATCHES ?? 1000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 32);

/** Patches/s; `target` patches those VirtualMachines instead of the shared bench set. */
export async function measureStatusWrites(patches = PATCHES, inFlight = IN_FLIGHT, vms = 1000, target?: { namespace: string; names: string[] }): Promise<number> {
  const client = await benchClient(inFlight);
  try {
    if (!target) await ensureVms(client, vms);
    const namespace = target?.namespace ?? BENCH_NAMESPACE;
    const nameOf = (i: number) => target ? target.names[i % target.names.length]! : `vm-${String(i % vms).padStart(5, '0')}`;
    const type = bootplaneResource('VirtualMachine');
    const stamp = Date.now();
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < patches) {
        const i = next++;
        await client.request(objectPath(type, namespace, nameOf(i), 'status'), {
          method: 'PATCH',
          contentType: 'application/merge-patch+json',
          body: { status: { observedGeneration: 1, bootOrderText: `bench-${stamp}-${i}` } },
        });
      }
    }));
    return patches / ((performance.now() - started) / 1000);
  } finally {
    await client.close();
  }
}

export async function run(): Promise<void> {
  const perSecond = await measureStatusWrites();
  report({ name: 'status-writes', unit: 'patches/s', value: perSecond, patches: PATCHES, inFlight: IN_FLIGHT });
}
