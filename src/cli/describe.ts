// `bootplane describe <kind>/<name> --dir ./site`: spec, status, conditions and recent Events of
// one object in a standalone site.
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { age, findKind } from './table.js';
import { openSite } from './get.js';

export const DESCRIBE_USAGE = `bootplane describe <kind>/<name> --dir DIR [-n NAMESPACE]
`;

interface Condition { type: string; status: string; reason: string; message: string; lastTransitionTime: string }

export function describe(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { dir: { type: 'string' }, namespace: { type: 'string', short: 'n' } } });
  const [kindName, name] = (positionals[0] ?? '').split('/');
  const info = kindName ? findKind(kindName) : undefined;
  if (!values.dir || !info || !name) {
    process.stderr.write(`bootplane describe: need <kind>/<name> and --dir\n\n${DESCRIBE_USAGE}`);
    return 2;
  }
  const store = openSite(values.dir);
  const key = info.scope === 'Namespaced' ? `${values.namespace ?? 'default'}/${name}` : name;
  const obj = store.get(info.kind, key);
  if (!obj) {
    process.stderr.write(`bootplane describe: ${info.kind} ${key} not found in ${values.dir}\n`);
    return 1;
  }
  const status = { ...((obj.status as Record<string, unknown> | undefined) ?? {}) };
  const conditions = (status.conditions as Condition[] | undefined) ?? [];
  delete status.conditions;
  const lines = [
    `Name:         ${obj.metadata.name}`,
    ...(obj.metadata.namespace ? [`Namespace:    ${obj.metadata.namespace}`] : []),
    `Kind:         ${info.kind}`,
    `Generation:   ${obj.metadata.generation ?? ''}`,
    `Created:      ${obj.metadata.creationTimestamp ?? ''} (${age(obj.metadata.creationTimestamp)} ago)`,
    ...(obj.metadata.deletionTimestamp ? [`Deleting:     since ${obj.metadata.deletionTimestamp}, finalizers ${(obj.metadata.finalizers ?? []).join(', ')}`] : []),
    'Spec:',
    indent(stringify(obj.spec ?? {})),
    'Status:',
    indent(Object.keys(status).length > 0 ? stringify(status) : '<none>\n'),
    'Conditions:',
    ...(conditions.length === 0 ? ['  <none>'] : [
      '  Type                 Status   Reason                     Age    Message',
      ...conditions.map((c) => `  ${c.type.padEnd(20)} ${c.status.padEnd(8)} ${c.reason.padEnd(26)} ${age(c.lastTransitionTime).padEnd(6)} ${c.message}`),
    ]),
    'Events:',
  ];
  const events = store.events(info.kind, obj);
  if (events.length === 0) lines.push('  <none>');
  else {
    lines.push('  Type     Reason                     Age    Count  Message');
    for (const e of events) lines.push(`  ${e.type.padEnd(8)} ${e.reason.padEnd(26)} ${age(e.time).padEnd(6)} ${String(e.count).padEnd(6)} ${e.note}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function indent(text: string): string {
  return text.trimEnd().split('\n').map((l) => `  ${l}`).join('\n');
}
