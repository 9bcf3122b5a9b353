// One full garbage collection once the work queues have drained after a burst. V8 collects when
// allocation asks for it, and an idle controller hardly allocates: after 10,000 VMs converged,
// the heap stayed at the size the burst needed (116 MiB for 93 MiB used, no collection in the
// 30 s that followed). The collection is V8's memory-reducing one (the `last-resort` flavour of
// `gc()`): a plain full collection frees the objects but keeps the heap's pages, so RSS stayed
// where the burst left it. The image runs node with --expose-gc; without it (a plain `node`, the
// test runner) there is no globalThis.gc and this does nothing.
const CHECK_MS = 1_000;
/** Queues empty for this long count as drained. */
export const QUIET_MS = 2_000;
/** Fewer reconciles than this since the last collection is not a burst (a resync of a few VMs). */
export const BURST_RECONCILES = 1_000;

export interface WorkCounters {
  readonly idle: boolean;
  readonly reconciled: number;
}

interface State {
  quietSince: number | undefined;
  reconciledAtCollection: number;
}

/** Pure decision: whether to collect now, and the state after this check. */
export function checkIdle(state: State, controllers: readonly WorkCounters[], now: number): { collect: boolean; state: State } {
  const reconciled = controllers.reduce((sum, c) => sum + c.reconciled, 0);
  if (!controllers.every((c) => c.idle)) return { collect: false, state: { ...state, quietSince: undefined } };
  if (reconciled - state.reconciledAtCollection < BURST_RECONCILES) return { collect: false, state };
  const quietSince = state.quietSince ?? now;
  if (now - quietSince < QUIET_MS) return { collect: false, state: { ...state, quietSince } };
  return { collect: true, state: { quietSince: undefined, reconciledAtCollection: reconciled } };
}

export class IdleCollection {
  private timer: NodeJS.Timeout | undefined;
  private state: State = { quietSince: undefined, reconciledAtCollection: 0 };

  constructor(
    private readonly controllers: () => readonly WorkCounters[],
    private readonly collect: (() => void) | undefined = memoryReducingCollection(),
  ) {}

  start(): void {
    const collect = this.collect;
    if (!collect || this.timer) return;
    this.state = { quietSince: undefined, reconciledAtCollection: 0 };
    this.timer = setInterval(() => {
      const checked = checkIdle(this.state, this.controllers(), Date.now());
      this.state = checked.state;
      if (checked.collect) collect();
    }, CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

type GcOptions = { type: 'major'; execution: 'sync'; flavor: 'last-resort' };

/** A full collection that also gives the heap's emptied pages back (node --expose-gc), or undefined. */
function memoryReducingCollection(): (() => void) | undefined {
  const gc = (globalThis as { gc?: (options?: GcOptions) => void }).gc;
  return gc && (() => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }));
}
