// `steady-state`: after N VMs (default 1,000) with an IsoAttachment each have converged (as in
// scale-1k), the controller is watched for BENCH_STEADY_MINUTES (default 10) with its resync
// every BENCH_RESYNC_SECONDS (default 120). Targets: zero writes to the API server by anyone
// (counted by the API server itself) and to the hypervisor, and one hypervisor read per VM per
// resync interval. Every object that changes in the window is named with the status fields
// that changed, so a write has an explanation.
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Informer } from '../src/kube/informer.js';
import type { KubeObject } from '../src/kube/object.js';
import { bootplaneResource } from '../src/kube/resources.js';
import { silentLogger } from '../src/observability/logger.js';
import { apiServerWrites, writesSince } from './apiserver-writes.js';
import { ControllerChild, sum } from './controller-child.js';
import { benchClient } from './fixtures.js';
import { report } from './report.js';
import { isoAttachmentsAttached, scaleConverged, setUpScale, tearDownScale, type Scale } from './scale-fixture.js';

const VMS = Number(process.env.BENCH_VMS ?? 1000);
const MINUTES = Number(process.env.BENCH_STEADY_MINUTES ?? 10);
const RESYNC_SECONDS = Number(process.env.BENCH_RESYNC_SECONDS ?? 120);

export async function run(): Promise<void> {
  const client = await benchClient(32);
  let controller: ControllerChild | undefined;
  const watchers: Informer<KubeObject>[] = [];
  try {
    const scale = await setUpScale(client, VMS, 'steady');
    controller = await ControllerChild.start({ concurrency: '16', 'resync-seconds': String(RESYNC_SECONDS) }, join(tmpdir(), 'bootplane-steady-state-controller.log'));
    await waitFor(() => Promise.resolve(scaleConverged(scale)));
    await waitFor(() => isoAttachmentsAttached(client, scale), 2_000);
    await settled(controller, scale);

    // Our own watch of everything the controller writes, to name each change in the window.
    const changes: string[] = [];
    let measuring = false;
    for (const kind of ['VirtualMachine', 'IsoAttachment', 'Hypervisor'] as const) {
      const informer = new Informer<KubeObject>(client, bootplaneResource(kind), { logger: silentLogger(), resyncMs: 0 });
      informer.on((event, obj, old) => {
        if (measuring && event !== 'resync') changes.push(`${event} ${kind} ${obj.metadata.namespace ?? ''}/${obj.metadata.name}: ${changedFields(old?.status, obj.status).join(', ')}`);
      });
      informer.start();
      await informer.waitForSync();
      watchers.push(informer);
    }
    const before = { calls: scale.sim.calls.length, api: await apiServerWrites(), metrics: await controller.metrics() };
    measuring = true;
    const started = performance.now();
    await sleep(MINUTES * 60_000);
    measuring = false;
    const seconds = (performance.now() - started) / 1000;
    const after = { api: await apiServerWrites(), metrics: await controller.metrics() };
    const calls = scale.sim.calls.slice(before.calls);
    const resyncs = seconds / RESYNC_SECONDS;
    const configReads = calls.filter((c) => /^GET .*\/qemu\/\d+\/(pending|config)$/.test(c)).length;
    const apiWrites = writesSince(before.api, after.api);
    const delta = (name: string, labels: Record<string, string> = {}) => sum(after.metrics, name, labels) - sum(before.metrics, name, labels);
    report({
      name: 'steady-state', unit: 'API-server writes', value: Object.values(apiWrites).reduce((a, b) => a + b, 0), target: 0,
      minutes: seconds / 60, resyncSeconds: RESYNC_SECONDS, vms: VMS, apiWritesByResource: apiWrites,
      pveWrites: calls.filter((c) => !c.startsWith('GET')).length,
      pveReadsPerVmPerResync: calls.length / VMS / resyncs, vmConfigReadsPerVmPerResync: configReads / VMS / resyncs,
      pveCalls: calls.length, vmReconciles: delta('controller_runtime_reconcile_total', { controller: 'virtualmachine' }),
      isoReconciles: delta('controller_runtime_reconcile_total', { controller: 'isoattachment' }),
      relists: delta('bootplane_informer_relists_total'), informerErrors: delta('bootplane_informer_errors_total'),
      changedObjects: changes.length, firstChanges: changes.slice(0, 10),
    });
    await controller.stop();
    controller = undefined;
    for (const w of watchers.splice(0)) await w.stop();
    await tearDownScale(client, scale);
  } finally {
    for (const w of watchers) await w.stop();
    await controller?.stop();
    await client.close();
  }
}

/** Converged and quiet: no status write and no PVE write for 10 s. */
async function settled(controller: ControllerChild, scale: Scale): Promise<void> {
  for (;;) {
    const writes = sum(await controller.metrics(), 'bootplane_status_writes_total');
    const pveWrites = scale.sim.calls.filter((c) => !c.startsWith('GET')).length;
    await sleep(10_000);
    if (sum(await controller.metrics(), 'bootplane_status_writes_total') === writes && scale.sim.calls.filter((c) => !c.startsWith('GET')).length === pveWrites) return;
  }
}

function changedFields(old: unknown, now: unknown, prefix = 'status'): string[] {
  if (JSON.stringify(old) === JSON.stringify(now)) return [];
  // Conditions (lists keyed by type): name the one that changed.
  const byType = (v: unknown) => Array.isArray(v) && v.every((c) => typeof c === 'object' && c !== null && 'type' in c) ? Object.fromEntries(v.map((c: { type: string }) => [c.type, c])) : undefined;
  const [oldTyped, nowTyped] = [byType(old), byType(now)];
  if (oldTyped && nowTyped) return changedFields(oldTyped, nowTyped, prefix);
  if (typeof old !== 'object' || typeof now !== 'object' || old === null || now === null || Array.isArray(old) || Array.isArray(now)) {
    return [`${prefix}: ${JSON.stringify(old)?.slice(0, 200)} -> ${JSON.stringify(now)?.slice(0, 200)}`];
  }
  const keys = new Set([...Object.keys(old), ...Object.keys(now)]);
  return [...keys].flatMap((k) => changedFields((old as Record<string, unknown>)[k], (now as Record<string, unknown>)[k], `${prefix}.${k}`));
}

async function waitFor(predicate: () => Promise<boolean>, intervalMs = 500, timeoutMs = 3_600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('bench: timed out waiting for convergence');
    await sleep(intervalMs);
  }
}
