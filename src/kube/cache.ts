// An in-memory store of one kind with secondary indexes, so lookups by MAC, by hypervisor or by
// referenced VM never scan. Objects in the cache are shared: callers must not mutate them.
import { keyOf, type KubeObject } from './object.js';

export type IndexFunction<T> = (obj: T) => readonly string[];

export class Cache<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunction<T>>();
  // An index value names one key far more often than many (an IsoAttachment's VM, a MAC): one
  // key is kept as the string itself, a Set only from the second (at 10,000 objects a Set per
  // value was 3.6 MB).
  private readonly indexes = new Map<string, Map<string, string | Set<string>>>();

  addIndex(name: string, fn: IndexFunction<T>): void {
    if (this.indexers.has(name)) throw new Error(`index ${name} already exists`);
    this.indexers.set(name, fn);
    const index = new Map<string, string | Set<string>>();
    this.indexes.set(name, index);
    for (const [key, obj] of this.items) for (const value of fn(obj)) addTo(index, value, key);
  }

  get size(): number { return this.items.size; }

  get(key: string): T | undefined { return this.items.get(key); }

  list(): IterableIterator<T> { return this.items.values(); }

  keys(): IterableIterator<string> { return this.items.keys(); }

  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`no index ${name}`);
    const keys = index.get(value);
    if (keys === undefined) return [];
    if (typeof keys === 'string') {
      const obj = this.items.get(keys);
      return obj ? [obj] : [];
    }
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.items.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, fn] of this.indexers) {
      const index = this.indexes.get(name)!;
      for (const value of fn(obj)) addTo(index, value, key);
    }
    return old;
  }

  remove(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indexes.get(name)!;
      for (const value of fn(obj)) removeFrom(index, value, key);
    }
  }
}

function addTo(index: Map<string, string | Set<string>>, value: string, key: string): void {
  const keys = index.get(value);
  if (keys === undefined || keys === key) index.set(value, key);
  else if (typeof keys === 'string') index.set(value, new Set([keys, key]));
  else keys.add(key);
}

function removeFrom(index: Map<string, string | Set<string>>, value: string, key: string): void {
  const keys = index.get(value);
  if (keys === undefined) return;
  if (typeof keys === 'string') {
    if (keys === key) index.delete(value);
    return;
  }
  keys.delete(key);
  if (keys.size === 1) index.set(value, keys.values().next().value!);
  else if (keys.size === 0) index.delete(value);
}
