// The config each VM had at its last read, kept for the rest of that reconcile pass (a plan is
// written from it, disk sizes are read from it) and then let go: held forever, it was a copy of
// every VM's config in memory for a fleet that is read once per resync.
import type { PveVmConfig } from './config.js';

// A pass reads and uses a config within a second (seconds when the API server is busy); a miss
// costs one read. At 10,000 VMs a minute held 5 MB of configs, 15 s still about 2 MB.
const KEEP_MS = 5_000;

export class RecentConfigs {
  // Insertion order is read order (an entry is re-inserted when read again), so the oldest
  // entries are at the front and expire first.
  private readonly entries = new Map<number, { at: number; config: PveVmConfig }>();
  // Expired entries also go when no read comes after them: at the end of a burst the last
  // seconds of reads would otherwise stay until the next resync.
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly keepMs = KEEP_MS, private readonly now: () => number = Date.now) {}

  get(vmid: number): PveVmConfig | undefined {
    const entry = this.entries.get(vmid);
    return entry && this.now() - entry.at < this.keepMs ? entry.config : undefined;
  }

  set(vmid: number, config: PveVmConfig): void {
    this.entries.delete(vmid);
    this.entries.set(vmid, { at: this.now(), config });
    this.sweep();
  }

  delete(vmid: number): void {
    this.entries.delete(vmid);
  }

  get size(): number { return this.entries.size; }

  /** Drops what expired, and comes back when the oldest entry left expires (never keeps the process alive). */
  private sweep(): void {
    for (const [vmid, entry] of this.entries) {
      if (this.now() - entry.at < this.keepMs) break;
      this.entries.delete(vmid);
    }
    if (this.sweepTimer !== undefined) return;
    const oldest = this.entries.values().next().value;
    if (oldest === undefined) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      this.sweep();
    }, Math.max(oldest.at + this.keepMs - this.now(), 0) + 10);
    this.sweepTimer.unref();
  }
}
