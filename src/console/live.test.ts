import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Cache } from '../kube/cache.js';
import type { InformerHandler } from '../kube/informer.js';
import type { KubeObject } from '../kube/object.js';
import type { ObjectSource } from '../kube/source.js';
import { LiveFeed } from './live.js';

class Source implements ObjectSource {
  readonly cache = new Cache<KubeObject>();
  readonly hasSynced = true;
  handlers: InformerHandler<KubeObject>[] = [];
  on(h: InformerHandler<KubeObject>): void { this.handlers.push(h); }
}

function response(): ServerResponse & { written: string[] } {
  const written: string[] = [];
  return { written, writableLength: 0, writeHead: () => undefined, write: (c: string) => { written.push(c); return true; }, on: () => undefined, end: () => undefined, destroy: () => undefined } as unknown as ServerResponse & { written: string[] };
}

const vm = (ns: string, name: string): KubeObject => ({ apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace: ns } });
const changes = (r: { written: string[] }) => r.written.filter((w) => w.includes('event: change')).map((w) => JSON.parse(w.split('data: ')[1]!) as { key: string; type: string; item?: unknown });

describe('LiveFeed', () => {
  it('writes each change once to every stream whose person may read it, and never the resync', async () => {
    const source = new Source();
    const feed = new LiveFeed(new Map([['VirtualMachine', source]]), ['VirtualMachine'], (_kind, obj) => ({ name: obj.metadata.name }));
    const everyone = response();
    const teamA = response();
    feed.open(everyone, () => true);
    feed.open(teamA, async (_kind, ns) => ns === 'team-a');
    const emit = (event: 'add' | 'update' | 'delete' | 'resync', obj: KubeObject) => { for (const h of source.handlers) h(event, obj); };
    emit('add', vm('team-a', 'web'));
    emit('update', vm('team-b', 'db'));
    emit('resync', vm('team-a', 'web'));
    emit('delete', vm('team-a', 'web'));
    await new Promise((r) => setTimeout(r, 10));
    expect(changes(everyone)).toEqual([
      { key: 'team-a/web', type: 'upsert', item: { name: 'web' }, namespace: 'team-a', kind: 'VirtualMachine', sentAt: expect.any(Number) },
      { key: 'team-b/db', type: 'upsert', item: { name: 'db' }, namespace: 'team-b', kind: 'VirtualMachine', sentAt: expect.any(Number) },
      { key: 'team-a/web', type: 'delete', namespace: 'team-a', kind: 'VirtualMachine', sentAt: expect.any(Number) },
    ].map((c) => expect.objectContaining(c)));
    expect(changes(teamA).map((c) => `${c.type} ${c.key}`)).toEqual(['upsert team-a/web', 'delete team-a/web']);
    feed.close();
  });
});
