// One copy of each string value the caches hold. JSON.parse makes a new string for every value
// of every object it reads, so 10,000 VMs held 10,000 copies of "HypervisorReady", of the same
// condition messages and timestamps, of their namespace and hypervisor: at 10k objects those
// copies were 29 of the cache's 50 MB of strings. Objects from lists and watches are walked once
// as they arrive and their strings swapped for the pooled copy.
const MAX_LENGTH = 256; // longer values are rarely shared (certificates, scripts, user data)
const MAX_ENTRIES = 50_000;

export class StringPool {
  private strings = new Map<string, string>();

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
        else if (v !== null && typeof v === 'object') this.internAll(v);
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

  get size(): number { return this.strings.size; }
}

/** Shared by every informer of the process: the same reason or namespace recurs across kinds. */
export const cachedStrings = new StringPool();
