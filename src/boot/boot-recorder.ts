// Records observed boots in NodeBootAssignment status (lastBoot, bootCount, bootOnceConsumedEpoch)
// without slowing the request that saw them: the request path only bumps an in-memory entry;
// a timer flushes one merge patch per assignment per interval through the store.
import type { Logger } from 'pino';
import type { NodeBootAssignment, NodeBootAssignmentStatus } from '../api/v1alpha1/node-boot-assignment.js';
import { errorMessage } from '../kube/errors.js';
import { keyOf } from '../kube/object.js';
import { bootMetrics } from '../observability/metrics.js';
import type { ResourceStore } from '../store/store.js';

export interface ObservedBoot {
  /** Epoch milliseconds (formatted at write time, not on the request path). */
  timeMs: number;
  clientIP: string;
  scriptHash: string;
  firmware?: string;
  arch?: string;
  /** What the machine was sent; unset means the profile's script. */
  answer?: 'profile' | 'localBoot';
  /** The bootOnceEpoch this boot used up, for boot-once assignments. */
  consumedEpoch?: number;
}

interface Pending {
  boots: number;
  /** The latest boot, its fields copied in: a busy machine's boots allocate nothing. */
  last: ObservedBoot;
  consumedEpoch?: number;
}

const KIND = 'NodeBootAssignment';
/** How long this replica remembers a used boot-once epoch after writing it (the cache catches up). */
const CONSUMED_MEMORY_MS = 30_000;

export class BootRecorder {
  private pending = new Map<string, Pending>();
  /** Boot counts this replica wrote, in case the cache has not seen its own write yet. */
  private readonly written = new Map<string, number>();
  private readonly consumed = new Map<string, { epoch: number; untilMs: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: ResourceStore,
    private readonly log: Logger,
    private readonly flushIntervalMs = 1000,
    /**
     * Status writes per flush at most. When more machines boot than that, the rest wait for a
     * later flush and keep coalescing, so a boot storm costs the API server a bounded write rate.
     */
    private readonly maxWritesPerFlush = 200,
  ) {}

  start(): void {
    if (this.timer || this.flushIntervalMs <= 0) return;
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /**
   * Notes a boot. The fields of `boot` are copied, so callers may reuse one object; `key` is the
   * assignment's key when the caller already has it.
   */
  record(assignment: NodeBootAssignment, boot: ObservedBoot, key = keyOf(assignment)): void {
    const entry = this.pending.get(key);
    // bootCount counts the profile's scripts served; a local-boot answer is recorded in lastBoot only.
    const counted = boot.answer === 'localBoot' ? 0 : 1;
    if (entry) {
      entry.boots += counted;
      const last = entry.last;
      last.timeMs = boot.timeMs;
      last.clientIP = boot.clientIP;
      last.scriptHash = boot.scriptHash;
      last.firmware = boot.firmware;
      last.arch = boot.arch;
      last.consumedEpoch = boot.consumedEpoch;
      last.answer = boot.answer;
      if (boot.consumedEpoch !== undefined) entry.consumedEpoch = boot.consumedEpoch;
    } else {
      this.pending.set(key, { boots: counted, last: { ...boot }, consumedEpoch: boot.consumedEpoch });
    }
    if (boot.consumedEpoch !== undefined) this.consumed.set(key, { epoch: boot.consumedEpoch, untilMs: Number.POSITIVE_INFINITY });
  }

  /** Whether this replica has served the one boot of this epoch (status may not show it yet). */
  usedBootOnce(assignment: NodeBootAssignment, nowMs = Date.now(), key = keyOf(assignment)): boolean {
    if (this.consumed.size === 0) return false;
    const mark = this.consumed.get(key);
    if (!mark) return false;
    if (mark.untilMs < nowMs) {
      this.consumed.delete(key);
      return false;
    }
    return mark.epoch === (assignment.spec.bootOnceEpoch ?? 0);
  }

  get pendingCount(): number { return this.pending.size; }

  /** Writes everything recorded so far; overlapping calls share one pass. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.pending.size === 0) return;
    // Oldest first (a Map keeps insertion order); the rest stay pending.
    const entries: [string, Pending][] = [];
    for (const entry of this.pending) {
      if (entries.length >= this.maxWritesPerFlush) break;
      entries.push(entry);
    }
    for (const [key] of entries) this.pending.delete(key);
    const WRITERS = 8;
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(WRITERS, entries.length) }, async () => {
      while (next < entries.length) {
        const [key, entry] = entries[next++]!;
        await this.writeOne(key, entry);
        // Give waiting requests a turn between writes, even with a store that answers at once.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }));
  }

  private async writeOne(key: string, entry: Pending): Promise<void> {
    const current = this.store.get<NodeBootAssignment>(KIND, key);
    if (!current) {
      this.written.delete(key);
      this.consumed.delete(key);
      return; // deleted since the boot: nothing to record on
    }
    const base = Math.max(current.status?.bootCount ?? 0, this.written.get(key) ?? 0);
    const status: NodeBootAssignmentStatus = {
      ...(current.status ?? {}),
      lastBoot: { time: new Date(entry.last.timeMs).toISOString(), clientIP: entry.last.clientIP, scriptHash: entry.last.scriptHash, firmware: entry.last.firmware, arch: entry.last.arch, ...(entry.last.answer ? { answer: entry.last.answer } : {}) },
      bootCount: base + entry.boots,
    };
    if (entry.consumedEpoch !== undefined) status.bootOnceConsumedEpoch = entry.consumedEpoch;
    try {
      await this.store.writeStatus(KIND, current, status as Record<string, unknown>);
      this.written.set(key, base + entry.boots);
      const mark = this.consumed.get(key);
      if (mark && entry.consumedEpoch !== undefined) mark.untilMs = Date.now() + CONSUMED_MEMORY_MS;
      bootMetrics.statusWrites.inc({ result: 'success' });
    } catch (err) {
      bootMetrics.statusWrites.inc({ result: 'error' });
      this.log.warn({ assignment: key, err: errorMessage(err) }, 'recording a boot in status failed; retrying with the next flush');
      const again = this.pending.get(key);
      if (again) {
        again.boots += entry.boots;
        if (again.consumedEpoch === undefined) again.consumedEpoch = entry.consumedEpoch;
      } else {
        this.pending.set(key, entry);
      }
    }
  }
}
