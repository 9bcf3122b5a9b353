// `informer-memory`: heap bytes per cached VirtualMachine and process RSS with 10,000 objects
// listed and watched by our informer. Runs the informer in a fresh child process on
// the compiled code (dist/) with --expose-gc, so the figure is the cache and nothing else this process allocated.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KUBECONFIG, ROOT } from '../test/support/paths.js';
import { BENCH_NAMESPACE, benchClient, ensureVms } from './fixtures.js';
import { report } from './report.js';

const COUNT = Number(process.env.BENCH_OBJECTS ?? 10_000);

export async function run(): Promise<void> {
  const client = await benchClient();
  const created = await ensureVms(client, COUNT);
  await client.close();
  await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json')]);
  const child = join(import.meta.dirname, 'informer-memory-child.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', child, KUBECONFIG, BENCH_NAMESPACE], { maxBuffer: 1 << 20 });
  const measured = JSON.parse(stdout.trim().split('\n').pop()!) as { objects: number; heapBytes: number; rssBytes: number; baselineRssBytes: number };
  const perObject = measured.heapBytes / measured.objects;
  report({ name: 'informer-memory', unit: 'bytes/object', value: perObject, target: 5120, objects: measured.objects, createdNow: created });
  report({ name: 'informer-memory-rss', unit: 'MiB', value: measured.rssBytes / 2 ** 20, target: 200, baselineMiB: measured.baselineRssBytes / 2 ** 20, objects: measured.objects });
}
