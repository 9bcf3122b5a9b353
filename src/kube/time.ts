/** metav1.MicroTime: RFC 3339 with microseconds, as Leases and events.k8s.io Events require. */
export function microTime(ms: number | Date): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** metav1.Time: RFC 3339 to the second. */
export function metaTime(ms: number | Date = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
