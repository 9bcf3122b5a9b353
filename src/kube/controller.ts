// Runs a Reconciler over a WorkQueue with a fixed number of workers: metrics per reconcile,
// per-key backoff on errors, requeueAfter, terminal errors that stop retrying, and a bounded
// drain on shutdown.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { errorMessage, TerminalError } from './errors.js';
import { parseKey, type ObjectKey } from './object.js';
import { WorkQueue, type RateLimiterOptions } from './workqueue.js';
import { reconcileMetrics } from '../observability/metrics.js';

export interface ReconcileResult {
  /** Reconcile this key again after this long, even if nothing changes (polling a task, a timeout). */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  log: Logger;
  reconcileId: string;
  signal: AbortSignal;
}

export interface Reconciler {
  reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void>;
}

export interface ControllerOptions {
  name: string;
  reconciler: Reconciler;
  concurrency?: number;
  rateLimiter?: Partial<RateLimiterOptions>;
  logger: Logger;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly concurrency: number;
  private readonly reconciler: Reconciler;
  private readonly log: Logger;
  private workers: Promise<void>[] = [];
  private readonly abort = new AbortController();
  private readonly metrics;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconciler = options.reconciler;
    this.concurrency = options.concurrency ?? 2;
    this.queue = new WorkQueue(options.name, options.rateLimiter);
    this.log = options.logger.child({ controller: options.name });
    const labels = { controller: this.name };
    reconcileMetrics.maxConcurrent.set(labels, this.concurrency);
    this.metrics = {
      success: reconcileMetrics.total.labels({ ...labels, result: 'success' }),
      requeueAfter: reconcileMetrics.total.labels({ ...labels, result: 'requeue_after' }),
      error: reconcileMetrics.total.labels({ ...labels, result: 'error' }),
      errors: reconcileMetrics.errors.labels(labels),
      terminalErrors: reconcileMetrics.terminalErrors.labels(labels),
      activeWorkers: reconcileMetrics.activeWorkers.labels(labels),
      time: reconcileMetrics.time.labels(labels),
    };
  }

  /** Reconciles finished since the controller was made (any outcome). */
  get reconciled(): number { return this.finished; }
  private finished = 0;
  /** Nothing queued and nothing being reconciled (delayed adds may be pending). */
  get idle(): boolean { return this.queue.length === 0 && this.queue.processingCount === 0; }

  enqueue(key: string): void { this.queue.add(key); }
  /** Whether the key is queued or being reconciled now. */
  pending(key: string): boolean { return this.queue.pending(key); }

  get running(): boolean { return this.workers.length > 0; }

  start(): void {
    if (this.running) return;
    for (let i = 0; i < this.concurrency; i++) this.workers.push(this.work());
    this.log.info({ concurrency: this.concurrency }, 'controller started');
  }

  /** Stops taking work and waits up to drainMs for in-flight reconciles; then aborts them. */
  async stop(drainMs = 10_000): Promise<void> {
    this.queue.shutDown();
    const drained = Promise.all(this.workers);
    const timer = setTimeout(() => this.abort.abort(), drainMs);
    await drained;
    clearTimeout(timer);
    this.workers = [];
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.processOne(key);
      } finally {
        this.finished++;
        this.queue.done(key);
      }
    }
  }

  private async processOne(key: string): Promise<void> {
    const objectKey = parseKey(key);
    const reconcileId = randomUUID();
    // The child logger is made on first use: most passes log nothing, and pino children are not free.
    let child: Logger | undefined;
    const baseLog = this.log;
    const ctx: ReconcileContext = {
      get log() {
        return (child ??= baseLog.child({ namespace: objectKey.namespace, name: objectKey.name, reconcileId }));
      },
      reconcileId,
      signal: this.abort.signal,
    };
    const started = performance.now();
    this.metrics.activeWorkers.inc();
    try {
      const result = (await this.reconciler.reconcile(objectKey, ctx)) ?? {};
      this.queue.forget(key);
      if (baseLog.isLevelEnabled('debug')) ctx.log.debug({ durationMs: Math.round(performance.now() - started), requeueAfterMs: result.requeueAfterMs }, 'reconciled');
      if (result.requeueAfterMs !== undefined) {
        this.queue.addAfter(key, result.requeueAfterMs);
        this.metrics.requeueAfter.inc();
      } else {
        this.metrics.success.inc();
      }
    } catch (err) {
      this.metrics.errors.inc();
      this.metrics.error.inc();
      if (err instanceof TerminalError) {
        this.metrics.terminalErrors.inc();
        this.queue.forget(key);
        ctx.log.error({ err: errorMessage(err) }, 'reconcile failed terminally; waiting for the object to change');
      } else {
        this.queue.addRateLimited(key);
        ctx.log.warn({ err: errorMessage(err), retries: this.queue.retries(key) }, 'reconcile failed; will retry with backoff');
      }
    } finally {
      this.metrics.activeWorkers.dec();
      this.metrics.time.observe((performance.now() - started) / 1000);
    }
  }
}
