// `scale-1k` / `scale-10k`: N VirtualMachines, each with an IsoAttachment, created from scratch in
// a fresh namespace of the real control plane, converge on the PVE simulator under the compiled
// controller running in its own process. Reported: time to converge, objects/s against the
// status-write ceiling measured in the same run (after the controller stopped, on the same
// objects), reconciles/s, queue-time p99, and the controller's RSS and heap per object.
// Knobs: BENCH_VMS (overrides N), BENCH_CONCURRENCY (16), BENCH_CPU_PROF_DIR,
// BENCH_HEAP_SNAPSHOT_DIR (see controller-child.ts).
import { readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiServerWrites, eventsByReason, writesSince } from './apiserver-writes.js';
import { ControllerChild, histogramQuantile, sum } from './controller-child.js';
import { benchClient } from './fixtures.js';
import { cpuSeconds, cpuSince } from './process-cpu.js';
import { report } from './report.js';
import { convergenceWatch, isoAttachmentsAttached, hypervisorFor, scaleConverged, setUpScale, tearDownScale } from './scale-fixture.js';
import { measureStatusWrites } from './status-writes.js';

const MiB = 2 ** 20;

export async function runScale(name: string, wanted: number): Promise<void> {
  const count = Number(process.env.BENCH_VMS ?? wanted);
  const concurrency = process.env.BENCH_CONCURRENCY ?? '16';
  const client = await benchClient(32);
  let controller: ControllerChild | undefined;
  const logFile = join(tmpdir(), `bootplane-${name}-controller.log`);
  try {
    // The controller's own footprint before any object exists, for heap and RSS per object.
    const empty = await ControllerChild.start({ concurrency }, logFile);
    await sleep(2_000);
    const baseline = await empty.metrics();
    await empty.stop();

    const scale = await setUpScale(client, count);
    const writesBefore = await apiServerWrites();
    const cpuBefore = cpuSeconds();
    const started = performance.now();
    controller = await ControllerChild.start({ concurrency }, logFile);
    // Peak RSS from /proc while waiting, not from /metrics: rendering and parsing every metric
    // twice a second cost the controller and this process CPU the run is measuring.
    let peakRssBytes = 0;
    const samplePeak = () => { peakRssBytes = Math.max(peakRssBytes, residentBytes(controller!.pid)); };
    const converging = convergenceWatch(scale);
    await waitFor(`${count} VMs converged on the simulator`, () => {
      controller!.assertRunning();
      samplePeak();
      return Promise.resolve(converging() && scaleConverged(scale));
    });
    // A list of every IsoAttachment each time (from the watch cache): every 2 s at 10k, every
    // 250 ms at 1k, so the wait adds no more than about 1 % to the time it measures.
    await waitFor(`${count} IsoAttachments Attached`, () => {
      controller!.assertRunning();
      samplePeak();
      return isoAttachmentsAttached(client, scale);
    }, Math.min(2_000, Math.max(250, count / 5)));
    const seconds = (performance.now() - started) / 1000;
    const atConvergence = await controller.metrics();
    const cpu = cpuSince(cpuBefore, cpuSeconds(controller.pid));
    const events = await eventsByReason(scale.namespace);
    const apiWrites = writesSince(writesBefore, await apiServerWrites());
    peakRssBytes = Math.max(peakRssBytes, sum(atConvergence, 'process_resident_memory_bytes'));
    // Memory once the burst is over: what the controller holds for N objects, 5 s after (what
    // the burst left) and 30 s after (once V8's memory reducer has had its idle moment). A heap
    // snapshot, when asked for, comes last: it collects everything first.
    await sleep(5_000);
    const after5s = await controller.metrics();
    await sleep(25_000);
    const after30s = await controller.metrics();
    const rssParts = residentParts(controller.pid);
    const anonymousRss = anonymousMappings(controller.pid);
    await controller.heapSnapshot();
    const settled = await controller.metrics();
    await controller.stop();
    controller = undefined;

    const cpuBeforeCeiling = cpuSeconds();
    const ceilingStarted = performance.now();
    const ceiling = await measureStatusWrites(1000, 32, count, { namespace: scale.namespace, names: scale.vmNames });
    const ceilingCpu = cpuSince(cpuBeforeCeiling, cpuSeconds());
    const ceilingSeconds = (performance.now() - ceilingStarted) / 1000;
    const objects = 2 * count;
    const reconciles = sum(atConvergence, 'controller_runtime_reconcile_total');
    const queueP99 = (queue: string) => histogramQuantile(atConvergence, 'workqueue_queue_duration_seconds', { name: queue }, 0.99);
    const rss = sum(after5s, 'process_resident_memory_bytes');
    const heap = sum(settled, 'nodejs_heap_size_used_bytes');
    const baseRss = sum(baseline, 'process_resident_memory_bytes');
    const baseHeap = sum(baseline, 'nodejs_heap_size_used_bytes');
    report({
      name, unit: 'objects/s', value: objects / seconds,
      peer: 'status-writes ceiling (patches/s, same run, same objects)', peerValue: ceiling, ratio: objects / seconds / ceiling,
      vms: count, objects, convergeSeconds: seconds, concurrency: Number(concurrency),
      reconciles, reconcilesPerSecond: reconciles / seconds,
      vmReconciles: sum(atConvergence, 'controller_runtime_reconcile_total', { controller: 'virtualmachine' }),
      isoReconciles: sum(atConvergence, 'controller_runtime_reconcile_total', { controller: 'isoattachment' }),
      reconcileErrors: sum(atConvergence, 'controller_runtime_reconcile_errors_total'),
      queueP99SecondsVm: queueP99('virtualmachine'), queueP99SecondsIso: queueP99('isoattachment'),
      apiStatusWrites: sum(atConvergence, 'bootplane_status_writes_total'),
      apiWrites: Object.values(apiWrites).reduce((a, b) => a + b, 0), apiWritesByResource: apiWrites,
      pveCalls: scale.sim.calls.length, pveWrites: scale.sim.calls.filter((c) => !c.startsWith('GET')).length, pveCallsByRoute: callsByRoute(scale.sim.calls),
      schemaViolations: scale.sim.schemaViolations.length, hypervisor: hypervisorFor(scale.purpose),
      cpuSecondsByProcess: cpu, eventsByReason: events, machineCpuSeconds: Math.round(seconds * availableParallelism() * 10) / 10,
      ceilingCpuSecondsByProcess: ceilingCpu, ceilingMachineCpuSeconds: Math.round(ceilingSeconds * availableParallelism() * 10) / 10,
    });
    report({
      name: `${name}-memory`, unit: 'MiB RSS', value: rss / MiB, target: 200,
      peakRssMiB: peakRssBytes / MiB, rssAfter30sMiB: sum(after30s, 'process_resident_memory_bytes') / MiB, rssAfter30sPartsMiB: rssParts, rssAfter30sAnonymous: anonymousRss, baselineRssMiB: baseRss / MiB,
      heapUsedMiB: heap / MiB, baselineHeapMiB: baseHeap / MiB, heapTotalMiB: sum(settled, 'nodejs_heap_size_total_bytes') / MiB,
      externalMiB: sum(settled, 'nodejs_external_memory_bytes') / MiB, peakHeapUsedMiB: sum(atConvergence, 'nodejs_heap_size_used_bytes') / MiB,
      heapBytesPerObject: (heap - baseHeap) / objects, rssBytesPerObject: (rss - baseRss) / objects, objects,
    });
    await tearDownScale(client, scale);
  } finally {
    await controller?.stop();
    await client.close();
  }
}

async function waitFor(what: string, predicate: () => Promise<boolean>, intervalMs = 500, timeoutMs = 3_600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** PVE calls per route, VM ids and task ids folded, most frequent first. */
function callsByRoute(calls: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const call of calls) {
    const route = call.replace(/\/UPID:[^/]+/, '/{upid}').replace(/\/qemu\/\d+/, '/qemu/{vmid}').replace(/\/content\/[^/]+$/, '/content/{volume}');
    counts.set(route, (counts.get(route) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

function residentBytes(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return kib ? Number(kib[1]) * 1024 : 0;
}

/** RSS split as the kernel counts it (/proc/<pid>/status): anonymous memory (V8's heap, malloc) and mapped files (node's own code). */
function residentParts(pid: number): Record<string, number> {
  const parts: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(RssAnon|RssFile|RssShmem):\s+(\d+) kB/.exec(line);
    if (m) parts[m[1]!] = Math.round(Number(m[2]) / 1024 * 10) / 10;
  }
  return parts;
}

/**
 * Where the anonymous RSS sits, from /proc/<pid>/smaps: the brk heap (glibc's main arena), and
 * the largest anonymous mappings with their sizes (glibc's other arenas reserve 64 MiB each;
 * V8 maps its heap pages and code range itself).
 */
function anonymousMappings(pid: number): { brkHeapMiB: number; largest: { sizeMiB: number; rssMiB: number }[]; otherMiB: number } {
  const mappings: { name: string; sizeKiB: number; rssKiB: number; anonymous: boolean }[] = [];
  let current: (typeof mappings)[number] | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      current = { name: head[4]!, sizeKiB: (parseInt(head[2]!, 16) - parseInt(head[1]!, 16)) / 1024, rssKiB: 0, anonymous: head[3] === '0' };
      mappings.push(current);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current) current.rssKiB = Number(rss[1]);
  }
  const mib = (kib: number) => Math.round(kib / 1024 * 10) / 10;
  const anonymous = mappings.filter((m) => m.anonymous && (m.name === '' || m.name === '[heap]'));
  const sorted = anonymous.filter((m) => m.name === '').sort((a, b) => b.rssKiB - a.rssKiB);
  const largest = sorted.slice(0, 8);
  return {
    brkHeapMiB: mib(anonymous.find((m) => m.name === '[heap]')?.rssKiB ?? 0),
    largest: largest.map((m) => ({ sizeMiB: mib(m.sizeKiB), rssMiB: mib(m.rssKiB) })),
    otherMiB: mib(sorted.slice(8).reduce((a, m) => a + m.rssKiB, 0)),
  };
}
