import { describe, expect, it } from 'vitest';
import { Cache } from './cache.js';
import type { KubeObject } from './object.js';

const vm = (name: string, hv: string, rv = '1'): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv }, spec: { hypervisorRef: { name: hv } } });
const byHv = (o: KubeObject) => [(o.spec as { hypervisorRef: { name: string } }).hypervisorRef.name];

describe('Cache', () => {
  it('finds objects through an index and follows updates and removals', () => {
    const cache = new Cache<KubeObject>();
    cache.addIndex('hv', byHv);
    cache.upsert(vm('a', 'pve'));
    cache.upsert(vm('b', 'pve'));
    cache.upsert(vm('c', 'kvm'));
    expect(cache.byIndex('hv', 'pve').map((o) => o.metadata.name).sort()).toEqual(['a', 'b']);
    cache.upsert(vm('a', 'kvm', '2'));
    expect(cache.byIndex('hv', 'pve').map((o) => o.metadata.name)).toEqual(['b']);
    expect(cache.byIndex('hv', 'kvm').map((o) => o.metadata.name).sort()).toEqual(['a', 'c']);
    cache.remove('ns/b');
    expect(cache.byIndex('hv', 'pve')).toEqual([]);
    expect(cache.size).toBe(2);
  });

  it('indexes objects that were cached before the index was added', () => {
    const cache = new Cache<KubeObject>();
    cache.upsert(vm('a', 'pve'));
    cache.addIndex('hv', byHv);
    expect(cache.byIndex('hv', 'pve')).toHaveLength(1);
    expect(() => cache.byIndex('nope', 'x')).toThrow(/no index/);
  });

  it('keeps an index value right as it goes from one key to many and back', () => {
    const cache = new Cache<KubeObject>();
    cache.addIndex('hv', byHv);
    const names = () => cache.byIndex('hv', 'pve').map((o) => o.metadata.name).sort();
    cache.upsert(vm('a', 'pve'));
    cache.upsert(vm('a', 'pve', '2')); // the same key again
    expect(names()).toEqual(['a']);
    cache.upsert(vm('b', 'pve'));
    cache.upsert(vm('c', 'pve'));
    expect(names()).toEqual(['a', 'b', 'c']);
    cache.remove('ns/a');
    cache.remove('ns/c');
    expect(names()).toEqual(['b']);
    cache.upsert(vm('d', 'pve'));
    expect(names()).toEqual(['b', 'd']);
    cache.remove('ns/b');
    cache.remove('ns/d');
    expect(names()).toEqual([]);
    cache.remove('ns/d'); // already gone
    expect(cache.size).toBe(0);
  });
});
