// The config each VM had at its last read, kept for the rest of that reconcile pass (a plan is
// written from it, disk sizes are read from it) and then let go: held forever, it was a copy of
// every VM's config in memory for a fleet that is read once per resync.
import type { PveVmConfig } from './config.js';

const KEEP_MS = 15_000; // a pass takes seconds; at 10,000 VMs a minute held 5 MB of configs

export class RecentConfigs {
  // Insertion order is read order (an entry is re-inserted when read again), so the oldest
  // entries are at the front and expire first.
  private readonly entries = new Map<number, { at: number; config: PveVmConfig }>();

  constructor(private readonly keepMs = KEEP_MS, private readonly now: () => number = Date.now) {}

  get(vmid: number): PveVmConfig | undefined {
    const entry = this.entries.get(vmid);
    return entry && this.now() - entry.at < this.keepMs ? entry.config : undefined;
  }

  set(vmid: number, config: PveVmConfig): void {
    this.entries.delete(vmid);
    this.entries.set(vmid, { at: this.now(), config });
    for (const [oldest, entry] of this.entries) {
      if (this.now() - entry.at < this.keepMs) break;
      this.entries.delete(oldest);
    }
  }

  delete(vmid: number): void {
    this.entries.delete(vmid);
  }

  get size(): number { return this.entries.size; }
}
