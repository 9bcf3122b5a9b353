// `bootplane get [kind] --dir ./site`: the printer-column table kubectl would show, read from a
// standalone site (manifests plus the status kept beside them).
import { parseArgs } from 'node:util';
import { KINDS } from '../api/v1alpha1/kinds.js';
import { DirStore } from '../store/dir-store.js';
import { silentLogger } from '../observability/logger.js';
import { findKind, renderTable } from './table.js';

export const GET_USAGE = `bootplane get [kind] --dir DIR [-n NAMESPACE] [-o wide]

Lists objects of a standalone site like kubectl get. kind is a kind, plural, singular or short
name (hv, vm, iso, bp, nba, dls; "sessions" for DisklessSessions); without it every bootplane
kind is listed. Sessions show phase, machine (MAC), image, connections and age.
`;

export function openSite(dir: string): DirStore {
  const store = new DirStore(dir, silentLogger(), 0, true);
  store.rescan();
  return store;
}

export function get(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { dir: { type: 'string' }, namespace: { type: 'string', short: 'n' }, output: { type: 'string', short: 'o' } } });
  if (!values.dir) {
    process.stderr.write(`bootplane get: --dir is required\n\n${GET_USAGE}`);
    return 2;
  }
  // "sessions" is what people call DisklessSessions.
  const asked = positionals[0] === 'sessions' || positionals[0] === 'session' ? 'disklesssessions' : positionals[0];
  const kinds = asked && asked !== 'bootplane' ? [findKind(asked)] : [...KINDS];
  if (kinds.some((k) => k === undefined)) {
    process.stderr.write(`bootplane get: unknown kind ${JSON.stringify(positionals[0])}; use one of ${KINDS.map((k) => k.shortNames[0]).join(', ')}\n`);
    return 2;
  }
  const store = openSite(values.dir);
  const sections: string[] = [];
  for (const info of kinds) {
    const objects = [...store.list(info!.kind)].filter((o) => !values.namespace || o.metadata.namespace === values.namespace);
    if (objects.length === 0 && kinds.length > 1) continue;
    sections.push(objects.length === 0 ? `No ${info!.plural} found.` : renderTable(info!, objects, { wide: values.output === 'wide' }));
  }
  process.stdout.write(`${sections.join('\n\n') || 'No resources found.'}\n`);
  for (const p of store.problems) process.stderr.write(`warning: ${p.file} document ${p.document}${p.field ? ` (${p.field})` : ''}: ${p.message}\n`);
  return 0;
}
