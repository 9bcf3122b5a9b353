// kubectl-like tables from a kind's printer columns: the same columns `kubectl get` shows.
import type { KindInfo, PrinterColumn } from '../api/v1alpha1/kinds.js';
import { KINDS } from '../api/v1alpha1/kinds.js';
import type { KubeObject } from '../kube/object.js';
import { byCodeUnits } from '../order.js';

/** Evaluates the JSONPath forms printer columns use: `.a.b` and `.list[?(@.key=="value")].field`. */
export function jsonPath(obj: unknown, path: string): unknown {
  let current: unknown = obj;
  const parts = path.match(/\.[A-Za-z0-9_]+|\[\?\(@\.[A-Za-z0-9_]+=="[^"]*"\)\]/g) ?? [];
  for (const part of parts) {
    if (current === undefined || current === null) return undefined;
    if (part.startsWith('.')) {
      current = (current as Record<string, unknown>)[part.slice(1)];
    } else {
      const [, key, value] = /\[\?\(@\.([A-Za-z0-9_]+)=="([^"]*)"\)\]/.exec(part)!;
      current = Array.isArray(current) ? current.find((item) => (item as Record<string, unknown>)?.[key!] === value) : undefined;
    }
  }
  return current;
}

export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 3600 * 3) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400 * 2) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

function cell(obj: KubeObject, column: PrinterColumn, now: number): string {
  const value = jsonPath(obj, column.jsonPath);
  if (value === undefined || value === null || value === '') return '<none>';
  if (column.type === 'date') return age(String(value), now);
  return String(value);
}

export function findKind(name: string): KindInfo | undefined {
  const lower = name.toLowerCase();
  return KINDS.find((k) => k.kind.toLowerCase() === lower || k.plural === lower || k.singular === lower || (k.shortNames as readonly string[]).includes(lower));
}

export function renderTable(info: KindInfo, objects: KubeObject[], options: { wide?: boolean; now?: number } = {}): string {
  const now = options.now ?? Date.now();
  const columns = info.printerColumns.filter((c) => options.wide || !c.priority);
  const namespaced = info.scope === 'Namespaced';
  const header = [...(namespaced ? ['NAMESPACE'] : []), 'NAME', ...columns.map((c) => c.name.toUpperCase())];
  const rows = objects
    .slice()
    .sort((a, b) => byCodeUnits(`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`))
    .map((o) => [...(namespaced ? [o.metadata.namespace ?? ''] : []), o.metadata.name, ...columns.map((c) => cell(o, c, now))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('');
  return [line(header), ...rows.map(line)].join('\n');
}
