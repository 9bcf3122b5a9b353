// Validation of a bootplane object outside the API server (standalone mode, the console): the
// same zod schema the CRDs come from, plus the CRDs' own CEL rules evaluated with a CEL
// interpreter, so a manifest is judged as `kubectl apply` would judge it.
import { evaluate } from '@marcbachmann/cel-js';
import { openApiSchema } from './crd.js';
import { kindInfo } from './v1alpha1/kinds.js';

export interface FieldProblem {
  field: string;
  message: string;
}

interface Rule {
  rule: string;
  message: string;
  fieldPath?: string;
}

interface Node {
  type?: string;
  properties?: Record<string, Node>;
  items?: Node;
  additionalProperties?: Node;
  'x-kubernetes-validations'?: Rule[];
}

const schemaCache = new Map<string, Node>();

function specSchema(kind: string): Node {
  let schema = schemaCache.get(kind);
  if (!schema) {
    schema = openApiSchema(kindInfo(kind).spec, `${kind}.spec`) as Node;
    schemaCache.set(kind, schema);
  }
  return schema;
}

/** Problems with an object's spec; `previous` is the last accepted spec, for transition rules. */
export function validateSpec(kind: string, spec: unknown, previous?: unknown): FieldProblem[] {
  return admitSpec(kind, spec, previous).problems;
}

/**
 * What the API server would do with a spec: reject it with problems, or store it with defaults
 * applied and unknown fields pruned.
 */
export function admitSpec(kind: string, spec: unknown, previous?: unknown): { problems: FieldProblem[]; spec?: unknown } {
  const parsed = kindInfo(kind).spec.safeParse(spec);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((i) => ({ field: ['spec', ...i.path.map(String)].join('.'), message: i.message })) };
  }
  const problems: FieldProblem[] = [];
  walk(specSchema(kind), parsed.data, previous === undefined ? undefined : (kindInfo(kind).spec.safeParse(previous).data ?? undefined), 'spec', problems);
  return problems.length > 0 ? { problems } : { problems, spec: parsed.data };
}

function walk(node: Node, value: unknown, old: unknown, path: string, problems: FieldProblem[]): void {
  if (value === undefined || value === null) return;
  for (const rule of node['x-kubernetes-validations'] ?? []) {
    const transition = /\boldSelf\b/.test(rule.rule);
    if (transition && (old === undefined || old === null)) continue;
    try {
      const ok = evaluate(rule.rule, transition ? { self: value, oldSelf: old } : { self: value });
      if (ok !== true) problems.push({ field: path + (rule.fieldPath ?? ''), message: rule.message });
    } catch (err) {
      problems.push({ field: path, message: `could not evaluate rule ${rule.rule}: ${(err as Error).message}` });
    }
  }
  if (node.properties && typeof value === 'object' && !Array.isArray(value)) {
    for (const [name, child] of Object.entries(node.properties)) {
      const oldChild = old && typeof old === 'object' ? (old as Record<string, unknown>)[name] : undefined;
      walk(child, (value as Record<string, unknown>)[name], oldChild, `${path}.${name}`, problems);
    }
  }
  if (node.items && Array.isArray(value)) {
    value.forEach((item, i) => walk(node.items!, item, undefined, `${path}[${i}]`, problems));
  }
}
