// ResourceStore over a directory of manifests (standalone mode). The manifests are the spec;
// what a cluster would keep in etcd beside them — uid, generation, finalizers, a deletion in
// progress, status and recent Events — lives under <dir>/.status/, one file per object, written
// atomically (write, fsync, rename) so a kill -9 leaves either the old or the new file.
import { randomUUID, createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { parse, stringify } from 'yaml';
import { KINDS } from '../api/v1alpha1/kinds.js';
import { Cache } from '../kube/cache.js';
import type { EventType } from '../kube/events.js';
import type { InformerEvent, InformerHandler } from '../kube/informer.js';
import { deepEqual } from '../kube/merge-patch.js';
import { keyOf, type KubeObject } from '../kube/object.js';
import type { ObjectSource } from '../kube/source.js';
import { FINALIZER } from '../kube/finalizers.js';
import { metaTime } from '../kube/time.js';
import { loadManifests, objectId, STATUS_DIR, type ManifestProblem } from './manifests.js';
import type { ConfigMapData, ResourceStore, SecretData } from './store.js';

/** What a cluster would store beside the spec, kept in .status/<kind>/<namespace|_cluster>/<name>.status. */
export interface ObjectRecord {
  metadata: {
    uid: string;
    generation: number;
    creationTimestamp: string;
    specHash: string;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  /** The last valid manifest, so a deletion can still be finalized after the file is gone. */
  manifest: KubeObject;
  status?: Record<string, unknown>;
}

export interface StoredEvent {
  time: string;
  type: EventType;
  reason: string;
  action: string;
  note: string;
  count: number;
}

const MAX_EVENTS_PER_OBJECT = 20;
const RESCAN_DEBOUNCE_MS = 150;

class DirSource implements ObjectSource {
  readonly cache = new Cache<KubeObject>();
  private readonly handlers: InformerHandler<KubeObject>[] = [];
  hasSynced = false;
  on(handler: InformerHandler<KubeObject>): void { this.handlers.push(handler); }
  emit(event: InformerEvent, obj: KubeObject, old?: KubeObject): void {
    for (const h of this.handlers) h(event, obj, old);
  }
}

// Records are YAML but named *.status / *.events, so `kubectl apply -R -f <site>` (which reads
// every *.yaml, hidden folders included) never mistakes them for manifests.
export function recordPath(dir: string, kind: string, obj: { metadata: { name: string; namespace?: string } }): string {
  return join(dir, STATUS_DIR, kind, obj.metadata.namespace ?? '_cluster', `${obj.metadata.name}.status`);
}

function eventsPath(dir: string, kind: string, obj: { metadata: { name: string; namespace?: string } }): string {
  return join(dir, STATUS_DIR, 'events', kind, obj.metadata.namespace ?? '_cluster', `${obj.metadata.name}.events`);
}

/** Write, fsync, rename: readers see the old file or the new one, never half of one. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function specHash(obj: KubeObject): string {
  const { spec, data, stringData, metadata } = obj as KubeObject & { data?: unknown; stringData?: unknown };
  return createHash('sha256').update(JSON.stringify({ spec, data, stringData, labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} })).digest('hex').slice(0, 16);
}

export class DirStore implements ResourceStore {
  readonly sources = new Map<string, DirSource>();
  private problemList: ManifestProblem[] = [];
  private readonly fileOf = new Map<string, string>(); // object id -> manifest file
  private resourceVersion = 0;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly secretListeners = new Map<string, Set<() => void>>();
  private rescanning = false;
  private firstScanDone = false;
  private rescanAgain = false;
  onProblems: ((problems: ManifestProblem[]) => void) | undefined;

  /**
   * @param readOnly for commands that only look (get, describe): records are read, never written.
   */
  constructor(
    readonly dir: string,
    private readonly log: Logger,
    private readonly pollMs = 30_000,
    private readonly readOnly = false,
  ) {
    for (const kind of [...KINDS.map((k) => k.kind), 'Secret', 'ConfigMap']) this.sources.set(kind, new DirSource());
  }

  get problems(): readonly ManifestProblem[] { return this.problemList; }

  source(kind: string): DirSource {
    const source = this.sources.get(kind);
    if (!source) throw new Error(`standalone mode has no ${kind} source`);
    return source;
  }

  /** First load, then watch the directory for edits, additions and deletions. */
  start(): void {
    this.rescan();
    for (const s of this.sources.values()) s.hasSynced = true;
    try {
      this.watcher = watch(this.dir, { recursive: true }, (_event, file) => {
        if (file && (file.startsWith(STATUS_DIR) || file.split('/').some((p) => p.startsWith('.')))) return;
        this.scheduleRescan();
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot watch the directory; polling only');
    }
    if (this.pollMs > 0) {
      this.poller = setInterval(() => this.scheduleRescan(), this.pollMs);
      this.poller.unref();
    }
  }

  stop(): void {
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
  }

  scheduleRescan(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.rescan(), RESCAN_DEBOUNCE_MS);
  }

  /** Brings the caches in line with the files; emits add/update/delete like a watch would. */
  rescan(): void {
    if (this.rescanning) {
      this.rescanAgain = true;
      return;
    }
    this.rescanning = true;
    try {
      do {
        this.rescanAgain = false;
        this.rescanOnce();
      } while (this.rescanAgain);
    } finally {
      this.rescanning = false;
    }
  }

  private rescanOnce(): void {
    const previousSpecs = new Map<string, unknown>();
    for (const [kind, source] of this.sources) for (const obj of source.cache.list()) previousSpecs.set(objectId(kind, obj), obj.spec);
    const loaded = loadManifests(this.dir, previousSpecs);
    if (!deepEqual(loaded.problems, this.problemList)) {
      for (const p of loaded.problems) this.log.warn({ file: p.file, document: p.document, field: p.field }, p.message);
      this.problemList = loaded.problems;
      this.onProblems?.(loaded.problems);
    }
    const present = new Set<string>();
    for (const { file, object } of loaded.objects) {
      const kind = object.kind as string;
      const id = objectId(kind, object);
      present.add(id);
      this.fileOf.set(id, file);
      this.applyManifest(kind, object);
    }
    for (const [kind, source] of this.sources) {
      for (const obj of [...source.cache.list()]) {
        const id = objectId(kind, obj);
        if (present.has(id) || loaded.invalidIds.has(id)) continue;
        const file = this.fileOf.get(id);
        if (file && loaded.unreadableFiles.has(file)) continue; // keep what a broken file held
        this.manifestGone(kind, obj);
      }
    }
    if (!this.firstScanDone) {
      this.firstScanDone = true;
      this.restoreDeletions(present);
    }
  }

  /** After a restart: objects whose manifest vanished while finalizers were pending. */
  private restoreDeletions(present: Set<string>): void {
    for (const info of KINDS) {
      const kindDir = join(this.dir, STATUS_DIR, info.kind);
      if (!existsSync(kindDir)) continue;
      for (const record of readRecords(kindDir)) {
        const id = objectId(info.kind, record.manifest);
        if (present.has(id)) continue;
        if ((record.metadata.finalizers ?? []).length === 0) {
          if (!this.readOnly) rmSync(recordPath(this.dir, info.kind, record.manifest), { force: true });
          continue;
        }
        record.metadata.deletionTimestamp ??= metaTime();
        this.writeRecord(info.kind, record);
        const obj = this.toObject(record);
        this.source(info.kind).cache.upsert(obj);
        this.source(info.kind).emit('add', obj);
      }
    }
  }

  private applyManifest(kind: string, manifest: KubeObject): void {
    const source = this.source(kind);
    const key = keyOf(manifest);
    const current = source.cache.get(key);
    if (current?.metadata.deletionTimestamp) return; // finish the deletion first, as a cluster would
    const isCore = kind === 'Secret' || kind === 'ConfigMap';
    let record = isCore ? undefined : this.readRecord(kind, manifest);
    const hash = specHash(manifest);
    if (!isCore) {
      if (!record) {
        record = { metadata: { uid: randomUUID(), generation: 1, creationTimestamp: metaTime(), specHash: hash }, manifest };
        this.writeRecord(kind, record);
      } else if (record.metadata.specHash !== hash || !deepEqual(record.manifest, manifest)) {
        if (record.metadata.specHash !== hash) record.metadata.generation++;
        record.metadata.specHash = hash;
        record.manifest = manifest;
        this.writeRecord(kind, record);
      }
    }
    const next = record ? this.toObject(record) : { ...manifest, metadata: { ...manifest.metadata, resourceVersion: String(++this.resourceVersion) } };
    if (current && sameObject(current, next)) return;
    if (!record) next.metadata.uid = current?.metadata.uid ?? randomUUID();
    source.cache.upsert(next);
    source.emit(current ? 'update' : 'add', next, current);
    if (kind === 'Secret') this.notifySecret(key);
    if (kind === 'ConfigMap') this.notifySecret(`ConfigMap/${key}`);
  }

  private manifestGone(kind: string, obj: KubeObject): void {
    const source = this.source(kind);
    const key = keyOf(obj);
    this.fileOf.delete(objectId(kind, obj));
    const record = kind === 'Secret' || kind === 'ConfigMap' ? undefined : this.readRecord(kind, obj);
    if (record && (record.metadata.finalizers ?? []).length > 0) {
      if (record.metadata.deletionTimestamp) return;
      record.metadata.deletionTimestamp = metaTime();
      this.writeRecord(kind, record);
      const next = this.toObject(record);
      source.cache.upsert(next);
      source.emit('update', next, obj);
      return;
    }
    if (record && !this.readOnly) rmSync(recordPath(this.dir, kind, obj), { force: true });
    source.cache.remove(key);
    source.emit('delete', obj);
    if (kind === 'Secret') this.notifySecret(key);
    if (kind === 'ConfigMap') this.notifySecret(`ConfigMap/${key}`);
  }

  private toObject(record: ObjectRecord): KubeObject {
    const m = record.metadata;
    return {
      ...record.manifest,
      metadata: {
        ...record.manifest.metadata,
        uid: m.uid,
        generation: m.generation,
        creationTimestamp: m.creationTimestamp,
        resourceVersion: String(++this.resourceVersion),
        ...(m.finalizers && m.finalizers.length > 0 ? { finalizers: m.finalizers } : {}),
        ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
      },
      ...(record.status ? { status: record.status } : {}),
    };
  }

  readRecord(kind: string, obj: { metadata: { name: string; namespace?: string } }): ObjectRecord | undefined {
    const path = recordPath(this.dir, kind, obj);
    if (!existsSync(path)) return undefined;
    try {
      return parse(readFileSync(path, 'utf8')) as ObjectRecord;
    } catch (err) {
      this.log.error({ path, err: (err as Error).message }, 'unreadable status record; starting it afresh');
      return undefined;
    }
  }

  private writeRecord(kind: string, record: ObjectRecord): void {
    if (this.readOnly) return;
    writeFileAtomic(recordPath(this.dir, kind, record.manifest), stringify(record, { lineWidth: 0 }));
  }

  /** The manifest file an object was read from (the web console and bootplane migrate edit it there). */
  manifestFile(kind: string, obj: { metadata: { name: string; namespace?: string } }): string | undefined {
    return this.fileOf.get(objectId(kind, obj as KubeObject));
  }

  // ResourceStore

  get<T extends KubeObject>(kind: string, key: string): T | undefined {
    return this.source(kind).cache.get(key) as T | undefined;
  }

  list<T extends KubeObject>(kind: string): Iterable<T> {
    return this.source(kind).cache.list() as Iterable<T>;
  }

  byIndex<T extends KubeObject>(kind: string, index: string, value: string): T[] {
    return this.source(kind).cache.byIndex(index, value) as T[];
  }

  async writeStatus(kind: string, obj: KubeObject, status: Record<string, unknown>): Promise<boolean> {
    const current = this.get(kind, keyOf(obj));
    if (!current) return false;
    const normalized = JSON.parse(JSON.stringify(status)) as Record<string, unknown>;
    if (deepEqual(current.status ?? {}, normalized)) return false;
    const record = this.readRecord(kind, current);
    if (!record) return false;
    record.status = normalized;
    this.writeRecord(kind, record);
    this.publish(kind, current, record);
    return true;
  }

  async addFinalizer(kind: string, obj: KubeObject): Promise<void> {
    this.updateFinalizers(kind, obj, (list) => (list.includes(FINALIZER) ? list : [...list, FINALIZER]));
  }

  async removeFinalizer(kind: string, obj: KubeObject): Promise<void> {
    this.updateFinalizers(kind, obj, (list) => list.filter((f) => f !== FINALIZER));
  }

  private updateFinalizers(kind: string, obj: KubeObject, change: (list: string[]) => string[]): void {
    const current = this.get(kind, keyOf(obj));
    const record = current && this.readRecord(kind, current);
    if (!current || !record) return;
    const before = record.metadata.finalizers ?? [];
    const after = change(before);
    if (deepEqual(before, after)) return;
    record.metadata.finalizers = after;
    if (record.metadata.deletionTimestamp && after.length === 0) {
      rmSync(recordPath(this.dir, kind, current), { force: true });
      this.source(kind).cache.remove(keyOf(current));
      this.source(kind).emit('delete', current);
      this.scheduleRescan(); // a manifest added back meanwhile is created afresh
      return;
    }
    this.writeRecord(kind, record);
    this.publish(kind, current, record);
  }

  private publish(kind: string, current: KubeObject, record: ObjectRecord): void {
    const fresh = this.toObject(record);
    const next = { ...fresh, metadata: { ...current.metadata, ...fresh.metadata } };
    if (!record.metadata.finalizers?.length) delete next.metadata.finalizers;
    this.source(kind).cache.upsert(next);
    this.source(kind).emit('update', next, current);
  }

  async getSecret(namespace: string, name: string, onChange?: () => void): Promise<SecretData | undefined> {
    const key = `${namespace}/${name}`;
    let listeners = this.secretListeners.get(key);
    if (!listeners) this.secretListeners.set(key, (listeners = new Set()));
    if (onChange) listeners.add(onChange);
    const secret = this.get<KubeObject & { data?: Record<string, string>; stringData?: Record<string, string> }>('Secret', key);
    if (!secret) return undefined;
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(String(v), 'base64').toString('utf8');
    for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = String(v);
    return { namespace, name, resourceVersion: secret.metadata.resourceVersion, data };
  }

  async getConfigMap(namespace: string, name: string, onChange?: () => void): Promise<ConfigMapData | undefined> {
    const key = `${namespace}/${name}`;
    let listeners = this.secretListeners.get(`ConfigMap/${key}`);
    if (!listeners) this.secretListeners.set(`ConfigMap/${key}`, (listeners = new Set()));
    if (onChange) listeners.add(onChange);
    const configMap = this.get<KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> }>('ConfigMap', key);
    if (!configMap) return undefined;
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(configMap.data ?? {})) data[k] = String(v);
    for (const [k, v] of Object.entries(configMap.binaryData ?? {})) data[k] = Buffer.from(String(v), 'base64').toString('utf8');
    return { namespace, name, resourceVersion: configMap.metadata.resourceVersion, data };
  }

  /** Listeners of a Secret are keyed namespace/name, of a ConfigMap ConfigMap/namespace/name. */
  private notifySecret(key: string): void {
    for (const listener of this.secretListeners.get(key) ?? []) listener();
  }

  recordEvent(obj: KubeObject, type: EventType, reason: string, action: string, note: string): void {
    const kind = obj.kind as string;
    const path = eventsPath(this.dir, kind, obj);
    const events = this.events(kind, obj);
    const last = events[events.length - 1];
    if (last && last.type === type && last.reason === reason && last.note === note) {
      last.count++;
      last.time = metaTime();
    } else {
      events.push({ time: metaTime(), type, reason, action, note: note.slice(0, 1024), count: 1 });
    }
    writeFileAtomic(path, stringify(events.slice(-MAX_EVENTS_PER_OBJECT)));
  }

  /** Recent Events of an object; an unreadable file counts as none. */
  events(kind: string, obj: { metadata: { name: string; namespace?: string } }): StoredEvent[] {
    const path = eventsPath(this.dir, kind, obj);
    try {
      return existsSync(path) ? ((parse(readFileSync(path, 'utf8')) as StoredEvent[] | null) ?? []) : [];
    } catch {
      return [];
    }
  }
}

function sameObject(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return deepEqual(strip(a), strip(b));
}

function readRecords(kindDir: string): ObjectRecord[] {
  const out: ObjectRecord[] = [];
  for (const ns of readdirSafe(kindDir)) {
    for (const file of readdirSafe(join(kindDir, ns))) {
      if (!file.endsWith('.status')) continue;
      try {
        out.push(parse(readFileSync(join(kindDir, ns, file), 'utf8')) as ObjectRecord);
      } catch {
        // an unreadable record is skipped; the manifest, if any, recreates it
      }
    }
  }
  return out;
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
