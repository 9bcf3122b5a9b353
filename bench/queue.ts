// `queue`: keys per second through the work queue and a Controller with a no-op reconciler,
// against the ceiling of a bare async loop handing the same keys to the same no-op function.
import { Controller } from '../src/kube/controller.js';
import { silentLogger } from '../src/observability/logger.js';
import { report } from './report.js';

const KEYS = Number(process.env.BENCH_KEYS ?? 200_000);
const CONCURRENCY = 4;

async function throughController(): Promise<number> {
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const controller = new Controller({
    name: 'bench',
    concurrency: CONCURRENCY,
    logger: silentLogger(),
    reconciler: {
      reconcile: async () => {
        if (++done === KEYS) finish();
      },
    },
  });
  const started = performance.now();
  controller.start();
  for (let i = 0; i < KEYS; i++) controller.enqueue(`ns/vm-${i}`);
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await controller.stop();
  return KEYS / seconds;
}

async function bareLoop(): Promise<number> {
  const keys = Array.from({ length: KEYS }, (_, i) => `ns/vm-${i}`);
  let next = 0;
  const noop = async (_key: string) => {};
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < keys.length) await noop(keys[next++]!);
  }));
  return KEYS / ((performance.now() - started) / 1000);
}

export async function run(): Promise<void> {
  await throughController(); // warm-up
  const ceiling = await bareLoop();
  const ours = await throughController();
  report({ name: 'queue', unit: 'keys/s', value: ours, peer: 'bare async loop (ceiling)', peerValue: ceiling, ratio: ours / ceiling, keys: KEYS, concurrency: CONCURRENCY });
}
