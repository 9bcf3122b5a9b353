// One copy of each string value the caches hold. JSON.parse makes a new string for every value
// of every object it reads, so 10,000 VMs held 10,000 copies of "HypervisorReady", of the same
// condition messages and timestamps, of their namespace and hypervisor: at 10k objects those
// copies were 29 of the cache's 50 MB of strings. Objects from lists and watches are walked once
// as they arrive and their strings swapped for the pooled copy.
//
// The same goes one level up for small flat records in lists — conditions above all: VMs that
// converged in the same second hold identical HypervisorReady, SafeMode, Ready... conditions,
// about 70 bytes each, nine per VM. Such a record is replaced by an equal one seen recently, kept
// frozen because it is now shared (a write to it throws instead of changing other objects).
// Records are found by their first value (a condition's lastTransitionTime, a device's kind)
// among the few seen last with that value: no key strings are built, so records that are
// unique (a message naming its VM) cost a short scan and nothing kept.
const MAX_LENGTH = 256; // longer values are rarely shared (certificates, scripts, user data)
const MAX_ENTRIES = 50_000;
const RECENT_PER_FIRST_VALUE = 16;
const MAX_FIRST_VALUES = 4_096;

interface SharedRecord {
  record: Record<string, unknown>;
  size: number;
}

export class StringPool {
  private strings = new Map<string, string>();
  private records = new Map<unknown, SharedRecord[]>();

  /** The pooled copy of s. The pool starts afresh when full, so strings seen once do not pile up. */
  intern(s: string): string {
    if (s.length > MAX_LENGTH) return s;
    const pooled = this.strings.get(s);
    if (pooled !== undefined) return pooled;
    if (this.strings.size >= MAX_ENTRIES) this.strings = new Map();
    this.strings.set(s, s);
    return s;
  }

  /** Replaces every string value in a parsed JSON value, in place; returns it. */
  internAll<T>(value: T): T {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v === 'string') value[i] = this.intern(v);
        else if (v !== null && typeof v === 'object') value[i] = this.share(this.internAll(v));
      }
    } else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      for (const key in record) {
        const v = record[key];
        if (typeof v === 'string') record[key] = this.intern(v);
        else if (v !== null && typeof v === 'object') this.internAll(v);
      }
    }
    return value;
  }

  /** An equal record seen recently in place of a flat one (strings, numbers, booleans only). */
  private share(value: object): object {
    if (Array.isArray(value)) return value;
    const record = value as Record<string, unknown>;
    let first: unknown;
    let size = 0;
    for (const key in record) {
      const v = record[key];
      if (v !== null && typeof v === 'object') return value;
      if (size++ === 0) first = v;
    }
    if (size === 0) return value;
    let recent = this.records.get(first);
    if (!recent) {
      if (this.records.size >= MAX_FIRST_VALUES) this.records = new Map();
      this.records.set(first, (recent = []));
    }
    for (let i = 0; i < recent.length; i++) {
      const candidate = recent[i]!;
      if (candidate.size !== size || !sameValues(candidate.record, record)) continue;
      if (i > 0) [recent[i - 1], recent[i]] = [candidate, recent[i - 1]!]; // the often-seen move up
      return candidate.record;
    }
    Object.freeze(record);
    recent.unshift({ record, size });
    if (recent.length > RECENT_PER_FIRST_VALUE) recent.pop();
    return record;
  }

  get size(): number { return this.strings.size; }
}

/** Shared by every informer of the process: the same reason or namespace recurs across kinds. */
export const cachedStrings = new StringPool();

/** Whether every key of b has the same value in a (the caller has compared their sizes). */
function sameValues(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  for (const key in b) if (a[key] !== b[key] || !Object.hasOwn(a, key)) return false;
  return true;
}
