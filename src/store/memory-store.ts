// A ResourceStore over in-memory caches (the same Cache class the informers fill), for unit
// tests and benchmarks of code that reads through the store. Status writes land in the cache
// and are counted, so tests can assert what was written and how often.
import { Cache, type IndexFunction } from '../kube/cache.js';
import type { EventType } from '../kube/events.js';
import { keyOf, type KubeObject } from '../kube/object.js';
import type { ConfigMapData, ResourceStore, SecretData } from './store.js';

export class MemoryStore implements ResourceStore {
  private readonly caches = new Map<string, Cache<KubeObject>>();
  readonly secrets = new Map<string, Record<string, string>>();
  readonly statusWrites: { kind: string; key: string; status: Record<string, unknown> }[] = [];
  readonly events: { key: string; type: EventType; reason: string; note: string }[] = [];
  /** Set to make writeStatus fail (a test of retry paths). */
  failWrites = false;
  private resourceVersion = 1;

  cache(kind: string): Cache<KubeObject> {
    let cache = this.caches.get(kind);
    if (!cache) this.caches.set(kind, (cache = new Cache<KubeObject>()));
    return cache;
  }

  addIndex(kind: string, name: string, fn: IndexFunction<KubeObject>): void {
    this.cache(kind).addIndex(name, fn);
  }

  /** Stores obj with a new resourceVersion; generation moves when spec changes, as the API server does it. */
  put<T extends KubeObject>(kind: string, obj: T): T {
    const previous = this.get(kind, keyOf(obj));
    const generation = previous
      ? (previous.metadata.generation ?? 1) + (JSON.stringify(previous.spec) === JSON.stringify(obj.spec) ? 0 : 1)
      : (obj.metadata.generation ?? 1);
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.resourceVersion++), generation } };
    this.cache(kind).upsert(stored);
    return stored;
  }

  delete(kind: string, key: string): void {
    this.cache(kind).remove(key);
  }

  get<T extends KubeObject>(kind: string, key: string): T | undefined {
    return this.cache(kind).get(key) as T | undefined;
  }

  list<T extends KubeObject>(kind: string): Iterable<T> {
    return this.cache(kind).list() as Iterable<T>;
  }

  byIndex<T extends KubeObject>(kind: string, index: string, value: string): T[] {
    return this.cache(kind).byIndex(index, value) as T[];
  }

  async writeStatus(kind: string, obj: KubeObject, status: Record<string, unknown>): Promise<boolean> {
    if (this.failWrites) throw new Error('status write refused by the test');
    if (JSON.stringify(obj.status ?? {}) === JSON.stringify(status)) return false;
    const key = keyOf(obj);
    this.statusWrites.push({ kind, key, status });
    const current = this.get(kind, key);
    if (current) this.put(kind, { ...current, status });
    return true;
  }

  async addFinalizer(): Promise<void> {}

  async removeFinalizer(): Promise<void> {}

  readonly configMaps = new Map<string, Record<string, string>>();

  async getConfigMap(namespace: string, name: string): Promise<ConfigMapData | undefined> {
    const data = this.configMaps.get(`${namespace}/${name}`);
    return data ? { namespace, name, data } : undefined;
  }

  async getSecret(namespace: string, name: string): Promise<SecretData | undefined> {
    const data = this.secrets.get(`${namespace}/${name}`);
    return data ? { namespace, name, data } : undefined;
  }

  recordEvent(obj: KubeObject, type: EventType, reason: string, _action: string, note: string): void {
    this.events.push({ key: keyOf(obj), type, reason, note });
  }
}
