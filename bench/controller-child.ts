// The controller as production runs it: the compiled code (dist/) in its own process, so its RSS
// and heap are the controller's and nothing the benchmark, the client or the simulator holds.
// Figures come from its own /metrics endpoint. Knobs: BENCH_CPU_PROF_DIR writes a V8 CPU profile
// there when the controller exits; BENCH_HEAP_SNAPSHOT_DIR lets heapSnapshot() write one there;
// BENCH_CONTROLLER_NODE_FLAGS adds V8 flags to the ones the image runs it with.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { KUBECONFIG, ROOT } from '../test/support/paths.js';
import { productionRuntime } from './production-runtime.js';

let compiled: Promise<unknown> | undefined;

/** Compiles src/ to dist/ once per benchmark process. */
export function compileController(): Promise<unknown> {
  return (compiled ??= promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json')]));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One sample of a Prometheus text exposition: metric name → [labels, value][]. */
export type Metrics = Map<string, { labels: Record<string, string>; value: number }[]>;

export function parseMetrics(text: string): Metrics {
  const out: Metrics = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    const list = out.get(match[1]!) ?? [];
    list.push({ labels, value: Number(match[3]) });
    out.set(match[1]!, list);
  }
  return out;
}

/** Sum of a metric's samples whose labels include `labels`. */
export function sum(metrics: Metrics, name: string, labels: Record<string, string> = {}): number {
  return (metrics.get(name) ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

/**
 * A quantile from a cumulative histogram's buckets, interpolated within the bucket as
 * Prometheus' histogram_quantile does (so it is as fine as the buckets, no finer).
 */
export function histogramQuantile(metrics: Metrics, name: string, labels: Record<string, string>, q: number, before?: Metrics): number {
  const buckets = new Map<number, number>();
  const add = (m: Metrics, sign: number) => {
    for (const s of m.get(`${name}_bucket`) ?? []) {
      if (!Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + sign * s.value);
    }
  };
  add(metrics, 1);
  if (before) add(before, -1);
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return 0;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(count - prevCount, 1);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

export class ControllerChild {
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  private constructor(readonly metricsPort: number, flags: Record<string, string>, logFile: string) {
    // The image's node flags and environment (Dockerfile), then BENCH_CONTROLLER_NODE_FLAGS,
    // e.g. "--max-old-space-size=96", for experiments.
    const runtime = productionRuntime();
    const nodeFlags: string[] = [...runtime.nodeFlags, ...(process.env.BENCH_CONTROLLER_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
    if (process.env.BENCH_CPU_PROF_DIR) {
      mkdirSync(process.env.BENCH_CPU_PROF_DIR, { recursive: true });
      nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`);
    }
    if (process.env.BENCH_HEAP_SNAPSHOT_DIR) {
      mkdirSync(process.env.BENCH_HEAP_SNAPSHOT_DIR, { recursive: true });
      nodeFlags.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${process.env.BENCH_HEAP_SNAPSHOT_DIR}`);
    }
    const args = [...nodeFlags, join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'controller', '--kubeconfig', KUBECONFIG,
      '--metrics-addr', `127.0.0.1:${metricsPort}`, '--health-addr', '127.0.0.1:0', '--boot-addr', '127.0.0.1:0', '--console-addr', '127.0.0.1:0', '--leader-elect', 'false', '--log-level', 'warn'];
    for (const [k, v] of Object.entries(flags)) args.push(`--${k}`, v);
    const log = createWriteStream(logFile);
    this.child = spawn(process.execPath, args, { cwd: ROOT, env: { ...runtime.env, ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.pipe(log);
    this.child.stderr!.pipe(log);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get pid(): number { return this.child.pid!; }

  /** Starts the compiled controller and waits until its metrics endpoint answers. */
  static async start(flags: Record<string, string>, logFile: string): Promise<ControllerChild> {
    await compileController();
    const child = new ControllerChild(await freePort(), flags, logFile);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await child.metrics();
        return child;
      } catch (err) {
        if (Date.now() > deadline || child.child.exitCode !== null) throw new Error(`bench: controller did not start (see ${logFile})`, { cause: err });
        await sleep(100);
      }
    }
  }

  /** Throws when the controller has exited: a benchmark waiting on it would otherwise wait out its whole timeout. */
  assertRunning(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`bench: the controller exited (${this.child.exitCode ?? this.child.signalCode}); see its log`);
  }

  async metrics(): Promise<Metrics> {
    this.assertRunning();
    const res = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    if (!res.ok) throw new Error(`bench: /metrics answered ${res.status}`);
    return parseMetrics(await res.text());
  }

  /** Writes a heap snapshot into BENCH_HEAP_SNAPSHOT_DIR (if set); the controller pauses meanwhile. */
  async heapSnapshot(): Promise<void> {
    if (!process.env.BENCH_HEAP_SNAPSHOT_DIR) return;
    this.child.kill('SIGUSR2');
    await sleep(1000);
    await this.metrics(); // answers once the (blocking) snapshot is written
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(killer);
  }
}
