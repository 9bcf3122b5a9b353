// Writes the kube-apiserver itself counted (apiserver_request_total), by resource: status
// patches, finalizer patches, Events — every write a controller makes, whoever made it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KUBECONFIG } from '../test/support/paths.js';
import { parseMetrics } from './controller-child.js';

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY']);

export type WriteCounts = Record<string, number>;

/** Writes so far per "resource[/subresource]" (events, virtualmachines/status, ...). */
export async function apiServerWrites(): Promise<WriteCounts> {
  const { stdout } = await promisify(execFile)('kubectl', ['get', '--raw', '/metrics'], { env: { ...process.env, KUBECONFIG }, maxBuffer: 256 * 1024 * 1024 });
  const counts: WriteCounts = {};
  for (const s of parseMetrics(stdout).get('apiserver_request_total') ?? []) {
    if (!WRITE_VERBS.has(s.labels.verb ?? '')) continue;
    const key = s.labels.subresource ? `${s.labels.resource}/${s.labels.subresource}` : s.labels.resource ?? '?';
    counts[key] = (counts[key] ?? 0) + s.value;
  }
  return counts;
}

export function writesSince(before: WriteCounts, after: WriteCounts): WriteCounts {
  const out: WriteCounts = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

/** Events in a namespace by reason (for "which changes cost the writes"). */
export async function eventsByReason(namespace: string): Promise<Record<string, number>> {
  const { stdout } = await promisify(execFile)('kubectl', ['get', 'events.events.k8s.io', '-n', namespace, '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}'], { env: { ...process.env, KUBECONFIG }, maxBuffer: 256 * 1024 * 1024 });
  const counts: Record<string, number> = {};
  for (const reason of stdout.split('\n')) if (reason) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}
