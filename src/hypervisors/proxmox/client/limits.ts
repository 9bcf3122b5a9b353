// Two limits PVE needs from a polite client. Changes to one VM run one at a time (PVE takes a
// config lock per VM and a second writer fails with "can't lock file" after 10 s). And each node
// runs at most N mutating tasks from us at once: a task keeps its slot until its status is seen
// stopped or its lease runs out, because the lock is held by the worker, not by the HTTP call.

/** Runs functions one at a time per key, in arrival order. */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(fn);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  get activeKeys(): number { return this.tails.size; }
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** A counting semaphore per node, whose slots can outlive the call that took them (task leases). */
export class NodeTaskLimiter {
  private readonly inUse = new Map<string, number>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly leases = new Map<string, { node: string; timer: NodeJS.Timeout; release: () => void }>();

  constructor(private readonly perNode: number, private readonly leaseMs: number) {}

  /** Waits for a slot on `node`; the returned function gives it back (call it exactly once). */
  async acquire(node: string, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if ((this.inUse.get(node) ?? 0) < this.perNode) {
      this.inUse.set(node, (this.inUse.get(node) ?? 0) + 1);
      return this.releaser(node);
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const queue = this.waiters.get(node) ?? [];
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      const queue = this.waiters.get(node) ?? [];
      queue.push(waiter);
      this.waiters.set(node, queue);
    });
    return this.releaser(node);
  }

  /** Keeps a slot taken by a call that started task `upid` until `finish(upid)` or the lease ends. */
  holdForTask(node: string, upid: string, release: () => void): void {
    const timer = setTimeout(() => this.finish(upid), this.leaseMs);
    timer.unref();
    this.leases.set(upid, { node, timer, release });
  }

  /** The task was seen stopped (or will not be polled again): its slot is free. */
  finish(upid: string): void {
    const lease = this.leases.get(upid);
    if (!lease) return;
    clearTimeout(lease.timer);
    this.leases.delete(upid);
    lease.release();
  }

  inFlight(node: string): number { return this.inUse.get(node) ?? 0; }

  private releaser(node: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.get(node)?.shift();
      if (next) {
        if (next.signal && next.onAbort) next.signal.removeEventListener('abort', next.onAbort);
        next.resolve(); // the slot passes straight to the waiter
        return;
      }
      this.inUse.set(node, (this.inUse.get(node) ?? 1) - 1);
    };
  }

  close(): void {
    for (const upid of [...this.leases.keys()]) this.finish(upid);
  }
}
