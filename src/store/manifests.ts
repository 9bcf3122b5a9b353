// Reads a directory of the YAML manifests a user would `kubectl apply` (multi-document files,
// nested folders) and validates each bootplane object as the API server would. A bad document
// is reported with its file, document number and field; the others are still returned.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_VERSION } from '../api/v1alpha1/common.js';
import { KINDS } from '../api/v1alpha1/kinds.js';
import { admitSpec } from '../api/validate.js';
import type { KubeObject } from '../kube/object.js';

export const STATUS_DIR = '.status';

/** Core kinds standalone mode reads besides its own: credentials and file contents. */
const CORE_KINDS = new Set(['Secret', 'ConfigMap']);
const IGNORED_KINDS = new Set(['Namespace']);

export interface ManifestProblem {
  file: string;
  document: number;
  field?: string;
  message: string;
}

export interface LoadedObject {
  file: string;
  document: number;
  object: KubeObject;
}

export interface LoadResult {
  objects: LoadedObject[];
  problems: ManifestProblem[];
  /** Objects present in the files but invalid now: their last valid version stays in effect. */
  invalidIds: Set<string>;
  /** Files that could not be read or parsed: every object they held stays as it was. */
  unreadableFiles: Set<string>;
}

export function objectId(kind: string, obj: KubeObject): string {
  return `${kind}/${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
}

export function listManifestFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (/\.ya?ml$/.test(entry.name)) out.push(path);
    }
  };
  visit(dir);
  return out.sort();
}

/**
 * @param previousSpecs last accepted spec by object id, so immutability (transition) rules hold
 *   across edits as they do in a cluster.
 */
export function loadManifests(dir: string, previousSpecs: ReadonlyMap<string, unknown> = new Map()): LoadResult {
  const objects: LoadedObject[] = [];
  const problems: ManifestProblem[] = [];
  const invalidIds = new Set<string>();
  const unreadableFiles = new Set<string>();
  const seen = new Map<string, string>();
  for (const path of listManifestFiles(dir)) {
    const file = relative(dir, path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      problems.push({ file, document: 0, message: `cannot read: ${(err as Error).message}` });
      unreadableFiles.add(file);
      continue;
    }
    parseAllDocuments(text).forEach((doc, index) => {
      const document = index + 1;
      if (doc.errors.length > 0) {
        problems.push({ file, document, message: `YAML: ${doc.errors[0]!.message.split('\n')[0]}` });
        unreadableFiles.add(file);
        return;
      }
      let value: Record<string, unknown> | null;
      try {
        value = doc.toJS() as Record<string, unknown> | null; // throws on, e.g., an alias with no anchor
      } catch (err) {
        problems.push({ file, document, message: `YAML: ${(err as Error).message.split('\n')[0]}` });
        unreadableFiles.add(file);
        return;
      }
      if (value === null || value === undefined) return; // empty document
      const problem = (message: string, field?: string) => problems.push({ file, document, field, message });
      if (typeof value !== 'object' || Array.isArray(value)) return problem('a manifest must be a mapping with apiVersion, kind and metadata');
      const kind = value.kind;
      const metadata = value.metadata as KubeObject['metadata'] | undefined;
      if (typeof kind !== 'string') return problem('kind is required', 'kind');
      if (IGNORED_KINDS.has(kind)) return;
      if (!metadata || typeof metadata.name !== 'string' || metadata.name === '') return problem('metadata.name is required', 'metadata.name');
      const info = KINDS.find((k) => k.kind === kind);
      if (!info && !CORE_KINDS.has(kind)) return problem(`kind ${kind} is not something standalone mode reconciles; ignored`);
      if (info && value.apiVersion !== API_VERSION) return problem(`apiVersion must be ${API_VERSION}`, 'apiVersion');
      const namespaced = info ? info.scope === 'Namespaced' : true;
      const object = { ...value, metadata: { ...metadata, namespace: namespaced ? (metadata.namespace ?? 'default') : undefined } } as KubeObject;
      if (!namespaced) delete object.metadata.namespace;
      const id = objectId(kind, object);
      if (info) {
        const admitted = admitSpec(kind, object.spec, previousSpecs.get(id));
        if (admitted.problems.length > 0) {
          for (const p of admitted.problems) problem(`${kind} ${object.metadata.name}: ${p.message}`, p.field);
          invalidIds.add(id);
          return;
        }
        object.spec = admitted.spec; // stored as the API server stores it: defaulted, pruned
      }
      const first = seen.get(id);
      if (first) return problem(`${id} is already defined in ${first}`);
      seen.set(id, `${file}#${document}`);
      objects.push({ file, document, object });
    });
  }
  return { objects, problems, invalidIds, unreadableFiles };
}
