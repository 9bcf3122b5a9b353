// Listings many reconciles ask for at nearly the same moment (power of every VM on a node, the
// images or ISOs on a storage), shared for a short while and then let go. An entry is dropped
// when its time is up, not when it is next asked for: a listing of a storage holds every image
// of every VM on it, and four stale listings kept until the next read were 12 MB at 10,000 VMs.
export class SharedReads<V> {
  private readonly entries = new Map<string, { promise: Promise<V>; expiry?: NodeJS.Timeout }>();
  private readonly keepFor: (value: V) => number;

  /** keepMs: how long a read is shared once it has arrived, fixed or from what it holds. */
  constructor(keepMs: number | ((value: V) => number)) {
    this.keepFor = typeof keepMs === 'number' ? () => keepMs : keepMs;
  }

  /** The shared read of key, started with load when none is under way or fresh. A failed read is not shared. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached) return cached.promise;
    const promise = load();
    const entry: { promise: Promise<V>; expiry?: NodeJS.Timeout } = { promise };
    this.entries.set(key, entry);
    promise.then((value) => {
      if (this.entries.get(key) !== entry) return; // deleted or replaced while it loaded
      entry.expiry = setTimeout(() => this.forget(key, promise), this.keepFor(value));
      entry.expiry.unref();
    }, () => this.forget(key, promise));
    return promise;
  }

  /** Drops key's entry (bootplane just changed what it lists). */
  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry) this.forget(key, entry.promise);
  }

  clear(): void {
    for (const [key, entry] of [...this.entries]) this.forget(key, entry.promise);
  }

  get size(): number { return this.entries.size; }

  private forget(key: string, promise: Promise<V>): void {
    const entry = this.entries.get(key);
    if (entry?.promise !== promise) return; // a newer read took its place
    clearTimeout(entry.expiry);
    this.entries.delete(key);
  }
}
