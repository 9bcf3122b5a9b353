// `soak`: the compiled controller under continuous churn for BENCH_SOAK_MINUTES (default 30; run
// it with 1440 for the 24-hour soak) against the real control plane and the PVE simulator.
// BENCH_VMS (default 200) VMs with an IsoAttachment each converge first; then, at
// BENCH_SOAK_CHANGES_PER_SECOND (default 2), a random VM's boot order flips (hd <-> cdrom_hd)
// or its IsoAttachment is deleted and created again. Every BENCH_SOAK_SAMPLE_SECONDS (30) the
// controller's RSS, heap, open fds, timers and handles, reconcile and list rates are sampled
// (one JSON line each on stderr). At the end: memory and fds flat (the last quarter's median
// against the third quarter's: the first half is warm-up), timers bounded, no hot loop (reconciles per change bounded,
// no relists), and after churn stops everything converges with nothing lost or duplicated.
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootplaneResource, collectionPath, objectPath } from '../src/kube/resources.js';
import { KubeApiError } from '../src/kube/errors.js';
import { ControllerChild, sum, type Metrics } from './controller-child.js';
import { benchClient } from './fixtures.js';
import { report } from './report.js';
import { isoAttachmentsAttached, scaleConverged, SCALE_ISO, setUpScale, tearDownScale, type Scale } from './scale-fixture.js';

const VMS = Number(process.env.BENCH_VMS ?? 200);
const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 30);
const CHANGES_PER_SECOND = Number(process.env.BENCH_SOAK_CHANGES_PER_SECOND ?? 2);
const SAMPLE_SECONDS = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 30);
const RESYNC_SECONDS = Number(process.env.BENCH_RESYNC_SECONDS ?? 120);
const MiB = 2 ** 20;

interface Sample {
  t: number;
  rssMiB: number;
  heapMiB: number;
  fds: number;
  handles: number;
  timers: number;
  reconciles: number;
  lists: number;
  relists: number;
  changes: number;
}

export async function run(): Promise<void> {
  const client = await benchClient(16);
  let controller: ControllerChild | undefined;
  try {
    const scale = await setUpScale(client, VMS, 'soak');
    controller = await ControllerChild.start({ concurrency: '4', 'resync-seconds': String(RESYNC_SECONDS) }, join(tmpdir(), 'bootplane-soak-controller.log'));
    await converge(client, scale, controller);

    const samples: Sample[] = [];
    let changes = 0;
    const started = performance.now();
    const endAt = Date.now() + MINUTES * 60_000;
    const sampler = (async () => {
      while (Date.now() < endAt) {
        const m = await controller!.metrics();
        const sample = toSample(m, (performance.now() - started) / 1000, changes);
        samples.push(sample);
        process.stderr.write(`${JSON.stringify({ soakSample: sample })}\n`);
        await sleep(SAMPLE_SECONDS * 1000);
      }
    })();
    const presets = new Map<string, string>();
    while (Date.now() < endAt) {
      const name = scale.vmNames[Math.floor(Math.random() * scale.vmNames.length)]!;
      if (Math.random() < 0.5) {
        const preset = presets.get(name) === 'cdrom_hd' ? 'hd' : 'cdrom_hd';
        presets.set(name, preset);
        await client.request(objectPath(bootplaneResource('VirtualMachine'), scale.namespace, name), { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { bootOrder: { preset } } } });
      } else {
        await recreateAttachment(client, scale, name);
      }
      changes++;
      await sleep(1000 / CHANGES_PER_SECOND);
    }
    await sampler;
    const churnSeconds = (performance.now() - started) / 1000;
    // Churn is over: every VM must converge again, each with exactly one ISO and its preset.
    const convergeStarted = performance.now();
    await converge(client, scale, controller);
    const reconvergeSeconds = (performance.now() - convergeStarted) / 1000;
    const duplicates = [...scale.sim.cluster.vms.values()].filter((vm) => Object.values(vm.config).filter((v) => v.startsWith(`${SCALE_ISO},`)).length !== 1).length;

    // The first half is warm-up: V8 grows its heap to the working size (RSS plateaued after about
    // 12 minutes in the 30-minute run); the second half must be flat.
    const q = Math.floor(samples.length / 4);
    const early = samples.slice(2 * q, 3 * q);
    const late = samples.slice(3 * q);
    const rate = (list: Sample[]) => (list.at(-1)!.reconciles - list[0]!.reconciles) / Math.max(1, list.at(-1)!.t - list[0]!.t);
    const median = (list: Sample[], f: (s: Sample) => number) => list.map(f).sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;
    const first = samples[0]!;
    const last = samples.at(-1)!;
    const rssGrowth = median(late, (s) => s.rssMiB) - median(early, (s) => s.rssMiB);
    const heapGrowth = median(late, (s) => s.heapMiB) - median(early, (s) => s.heapMiB);
    const fdGrowth = median(late, (s) => s.fds) - median(early, (s) => s.fds);
    const timerGrowth = median(late, (s) => s.timers) - median(early, (s) => s.timers);
    const reconcilesPerChange = (last.reconciles - first.reconciles) / Math.max(1, last.changes - first.changes);
    const listsPerMinute = (last.lists - first.lists) / (churnSeconds / 60);
    const checks = {
      rssFlat: rssGrowth <= 20, heapFlat: heapGrowth <= 10, fdsFlat: fdGrowth <= 5, timersBounded: timerGrowth <= 20,
      // An IsoAttachment deleted and created again is about 15 passes of the two controllers
      // (finalizer, detach, status, attach, status, each seen by both); resync adds 2 per VM per
      // interval. A hot loop shows as more per change, or as a rate that climbs.
      reconcilesBounded: reconcilesPerChange <= 25 && rate(late) <= 1.5 * rate(early),
      noRelists: last.relists - first.relists === 0, noDuplicates: duplicates === 0,
    };
    report({
      name: 'soak', unit: 'MiB RSS growth', value: rssGrowth, minutes: churnSeconds / 60, vms: VMS, changes: last.changes,
      rssMiBStart: first.rssMiB, rssMiBEnd: last.rssMiB, rssMiBMax: Math.max(...samples.map((s) => s.rssMiB)),
      heapMiBGrowth: heapGrowth, heapMiBEnd: last.heapMiB, fdGrowth, fdsEnd: last.fds, timerGrowth, timersEnd: last.timers, handlesEnd: last.handles,
      reconcilesPerChange, reconcilesPerSecondThirdQuarter: rate(early), reconcilesPerSecondLastQuarter: rate(late), reconcilesPerSecond: (last.reconciles - first.reconciles) / churnSeconds, listsPerMinute, relists: last.relists - first.relists,
      reconvergeSeconds, duplicates, samples: samples.length, checks, ok: Object.values(checks).every(Boolean),
    });
    await controller.stop();
    controller = undefined;
    await tearDownScale(client, scale);
    if (!Object.values(checks).every(Boolean)) throw new Error(`soak: a check failed: ${JSON.stringify(checks)}`);
  } finally {
    await controller?.stop();
    await client.close();
  }
}

function toSample(m: Metrics, t: number, changes: number): Sample {
  return {
    t: Math.round(t), rssMiB: sum(m, 'process_resident_memory_bytes') / MiB, heapMiB: sum(m, 'nodejs_heap_size_used_bytes') / MiB,
    fds: sum(m, 'process_open_fds'), handles: sum(m, 'nodejs_active_handles_total'), timers: sum(m, 'nodejs_active_resources', { type: 'Timeout' }),
    reconciles: sum(m, 'controller_runtime_reconcile_total'), lists: sum(m, 'bootplane_informer_lists_total'), relists: sum(m, 'bootplane_informer_relists_total'), changes,
  };
}

async function recreateAttachment(client: Awaited<ReturnType<typeof benchClient>>, scale: Scale, vm: string): Promise<void> {
  const type = bootplaneResource('IsoAttachment');
  const name = `iso-${vm}`;
  try {
    await client.request(objectPath(type, scale.namespace, name), { method: 'DELETE' });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
  }
  // The finalizer holds it until the VM has detached it; then it is created again.
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await client.request(collectionPath(type, scale.namespace), { method: 'POST', body: {
        apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name, namespace: scale.namespace },
        spec: { vmRef: { name: vm }, source: { volume: SCALE_ISO } },
      } });
      return;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.isConflict) || Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}

async function converge(client: Awaited<ReturnType<typeof benchClient>>, scale: Scale, controller: ControllerChild): Promise<void> {
  const deadline = Date.now() + 30 * 60_000;
  while (!scaleConverged(scale) || !(await isoAttachmentsAttached(client, scale))) {
    controller.assertRunning();
    if (Date.now() > deadline) throw new Error('soak: did not converge within 30 minutes');
    await sleep(1000);
  }
}
