// A queue of keys with client-go's guarantees: adding a queued key again collapses into one
// item, a key being processed is never handed out twice (a re-add while processing is held until
// done), per-key exponential backoff for failures, and delayed adds for requeueAfter.
import { workqueueMetrics } from '../observability/metrics.js';

export interface RateLimiterOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number>();
  private readonly addedAt = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly limiter: RateLimiterOptions;
  // Labelled metric children resolved once: label lookup per call costs more than the queue.
  private readonly metrics;

  constructor(
    readonly name: string,
    limiter: Partial<RateLimiterOptions> = {},
  ) {
    this.limiter = { baseDelayMs: limiter.baseDelayMs ?? 5, maxDelayMs: limiter.maxDelayMs ?? 300_000 };
    const labels = { name };
    this.metrics = {
      depth: workqueueMetrics.depth.labels(labels),
      adds: workqueueMetrics.adds.labels(labels),
      queueDuration: workqueueMetrics.queueDuration.labels(labels),
      workDuration: workqueueMetrics.workDuration.labels(labels),
      retries: workqueueMetrics.retries.labels(labels),
    };
  }

  get length(): number { return this.queue.length - this.head; }
  /** Whether the key waits in the queue or is being processed (a delayed add does not count). */
  pending(key: string): boolean { return this.dirty.has(key) || this.processing.has(key); }
  get processingCount(): number { return this.processing.size; }
  get isShuttingDown(): boolean { return this.shuttingDown; }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.adds.inc();
    this.dirty.add(key);
    if (!this.addedAt.has(key)) this.addedAt.set(key, performance.now());
    if (this.processing.has(key)) return; // handed out again once done()
    this.push(key);
  }

  /** Adds the key after delayMs; an earlier pending delayed add wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Adds the key after its per-key backoff: base * 2^failures, capped. */
  addRateLimited(key: string): void {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.metrics.retries.inc();
    this.addAfter(key, this.backoffFor(failures));
  }

  backoffFor(failures: number): number {
    return Math.min(this.limiter.maxDelayMs, this.limiter.baseDelayMs * 2 ** Math.min(failures, 40));
  }

  retries(key: string): number { return this.failures.get(key) ?? 0; }

  /** Stops tracking the key's failures (after success or a terminal error). */
  forget(key: string): void { this.failures.delete(key); }

  /** The next key to process, or undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.take();
    if (key !== undefined || this.shuttingDown) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    const started = this.processing.get(key);
    this.processing.delete(key);
    if (started !== undefined) this.metrics.workDuration.observe((performance.now() - started) / 1000);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.start(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.metrics.depth.set(this.length);
  }

  private take(): string | undefined {
    if (this.head >= this.queue.length) return undefined;
    const key = this.queue[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.metrics.depth.set(this.length);
    this.start(key);
    return key;
  }

  private start(key: string): void {
    this.dirty.delete(key);
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    const now = performance.now();
    if (added !== undefined) this.metrics.queueDuration.observe((now - added) / 1000);
    this.processing.set(key, now);
  }
}
