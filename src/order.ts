// Deterministic string order by UTF-16 code units. String.prototype.localeCompare goes through
// ICU's collator: many times slower, and its first call maps megabytes of collation data into
// the process for the rest of its life. Everything bootplane sorts is an identifier (Kubernetes
// names, volume IDs, node and storage names, label names), not prose: no locale is wanted.
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
