// Where a console change goes. Cluster: to the API server with the person's own token, so RBAC
// decides and a refusal names who, what and which permission. Standalone: into the manifest file
// the object came from, edited as a YAML Document (comments and layout stay) and replaced
// atomically; the directory store then picks the edit up like any other.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, isMap, parseAllDocuments } from 'yaml';
import type { KubeClient } from '../kube/client.js';
import { KubeApiError } from '../kube/errors.js';
import { bootplaneResource, collectionPath, objectPath } from '../kube/resources.js';
import { writeFileAtomic, type DirStore } from '../store/dir-store.js';
import type { PlannedChange } from './actions.js';
import type { Session } from './auth.js';

export class WriteRefused extends Error {
  readonly code = 'WriteRefused';
  constructor(readonly status: number, message: string, readonly details: { who: string; verb: string; resource: string; namespace: string }, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface ConsoleWriter {
  /** Makes the change; resolves with where it went (the API server, or a file). */
  apply(session: Session, change: PlannedChange): Promise<{ target: string }>;
}

const VERB = { patch: 'patch', create: 'create', delete: 'delete' } as const;

export class KubeWriter implements ConsoleWriter {
  constructor(private readonly client: KubeClient) {}

  async apply(session: Session, change: PlannedChange): Promise<{ target: string }> {
    const type = bootplaneResource(change.kind);
    try {
      if (change.operation === 'patch') {
        await this.client.requestAs(session.token!, objectPath(type, change.namespace, change.name), { method: 'PATCH', contentType: 'application/merge-patch+json', body: change.patch });
      } else if (change.operation === 'create') {
        await this.client.requestAs(session.token!, collectionPath(type, change.namespace), { method: 'POST', body: change.object });
      } else {
        await this.client.requestAs(session.token!, objectPath(type, change.namespace, change.name), { method: 'DELETE' });
      }
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 403 || err.status === 401)) {
        const details = { who: session.user, verb: VERB[change.operation], resource: `${type.plural}.${type.group}`, namespace: change.namespace };
        throw new WriteRefused(403, `${session.user} may not ${details.verb} ${details.resource} in namespace ${change.namespace}: RBAC refused it (the role bound to you needs verb "${details.verb}" on resource "${type.plural}" in API group "${type.group}"). The API server said: ${err.message}`, details, { cause: err });
      }
      if (err instanceof KubeApiError) throw new WriteRefused(err.status >= 500 ? 502 : err.status, err.message, { who: session.user, verb: VERB[change.operation], resource: type.plural, namespace: change.namespace }, { cause: err });
      throw err;
    }
    return { target: 'the API server' };
  }
}

/** Applies a JSON merge patch to a YAML node in place, so untouched keys keep their comments and style. */
function patchDocument(doc: Document, path: (string | number)[], patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    const at = [...path, key];
    if (value === null) {
      doc.deleteIn(at);
    } else if (typeof value === 'object' && !Array.isArray(value) && isMap(doc.getIn(at, true))) {
      patchDocument(doc, at, value as Record<string, unknown>);
    } else {
      doc.setIn(at, doc.createNode(value));
    }
  }
}

const TO_STRING = { flowCollectionPadding: false, lineWidth: 0 } as const;

export class ManifestWriter implements ConsoleWriter {
  constructor(private readonly store: DirStore) {}

  async apply(_session: Session, change: PlannedChange): Promise<{ target: string }> {
    if (change.operation === 'create') {
      // A new IsoAttachment goes beside its VM, in the VM's file.
      const vmName = (change.object!.spec as { vmRef: { name: string } }).vmRef.name;
      const file = this.fileOf('VirtualMachine', change.namespace, vmName);
      const text = readFileSync(file, 'utf8');
      const doc = new Document(change.object);
      writeFileAtomic(file, `${text}${text.endsWith('\n') ? '' : '\n'}---\n${doc.toString(TO_STRING)}`);
      this.store.scheduleRescan();
      return { target: file };
    }
    const file = this.fileOf(change.kind, change.namespace, change.name);
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    if (!Array.isArray(docs)) throw new WriteRefused(409, `${file} is not a YAML stream the console can edit`, { who: 'console token', verb: change.operation, resource: change.kind, namespace: change.namespace });
    const index = docs.findIndex((d) => {
      const o = d.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
      return o?.kind === change.kind && o.metadata?.name === change.name && (o.metadata.namespace ?? 'default') === change.namespace;
    });
    if (index < 0) throw new WriteRefused(409, `${change.kind} ${change.namespace}/${change.name} is no longer in ${file}; reload and try again`, { who: 'console token', verb: change.operation, resource: change.kind, namespace: change.namespace });
    if (change.operation === 'patch') patchDocument(docs[index]!, [], change.patch!);
    const kept = change.operation === 'delete' ? docs.filter((_, i) => i !== index) : docs;
    let text = kept.map((d) => d.toString(TO_STRING)).join('');
    // The first document may lose its marker when the one before it goes; a later one keeps it.
    if (change.operation === 'delete' && index === 0 && text.startsWith('---\n')) text = text.slice(4);
    writeFileAtomic(file, text);
    this.store.scheduleRescan();
    return { target: file };
  }

  private fileOf(kind: string, namespace: string, name: string): string {
    const file = this.store.manifestFile(kind, { metadata: { name, namespace } });
    if (!file) throw new WriteRefused(404, `${kind} ${namespace}/${name} did not come from a manifest file in this site`, { who: 'console token', verb: 'edit', resource: kind, namespace });
    return join(this.store.dir, file);
  }
}
