// The informer against a small fake API server (unit test): relist on 410 Gone, and relist when
// a watch stays open but silent. The real API server is exercised by the integration suite.
import { createServer, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from './client.js';
import { Informer } from './informer.js';
import type { KubeObject } from './object.js';
import { bootplaneResource } from './resources.js';
import { silentLogger } from '../observability/logger.js';

interface Fake {
  lists: number;
  watches: number;
  items: KubeObject[];
  onWatch: (res: ServerResponse, n: number) => void;
}

async function fakeApi(fake: Fake) {
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.searchParams.get('watch') === 'true') {
      fake.watches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      fake.onWatch(res, fake.watches);
      return;
    }
    fake.lists++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ metadata: { resourceVersion: String(100 + fake.lists) }, items: fake.items }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'bp-informer-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
  const client = await KubeClient.create({ kubeconfigPath: kubeconfig });
  return { server, client };
}

const vm = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv }, spec: {} });
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => { await cleanup?.(); cleanup = undefined; });

describe('Informer', () => {
  it('relists on 410 Gone and emits the deletions it missed', async () => {
    const fake: Fake = {
      lists: 0, watches: 0, items: [vm('a', '1'), vm('b', '1')],
      onWatch: (res, n) => {
        if (n === 1) {
          fake.items = [vm('a', '1')]; // b was deleted while our resourceVersion expired
          res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } })}\n`);
        }
        // later watches stay open until the informer stops
      },
    };
    const { server, client } = await fakeApi(fake);
    const informer = new Informer<KubeObject>(client, bootplaneResource('VirtualMachine'), { logger: silentLogger(), resyncMs: 0 });
    const deleted: string[] = [];
    informer.on((event, obj) => { if (event === 'delete') deleted.push(obj.metadata.name); });
    cleanup = async () => { await informer.stop(); await client.close(); server.closeAllConnections(); server.close(); };
    informer.start();
    await informer.waitForSync(5000);
    await expect.poll(() => fake.lists, { timeout: 5000 }).toBe(2);
    await expect.poll(() => deleted, { timeout: 5000 }).toEqual(['b']);
    expect([...informer.cache.keys()]).toEqual(['ns/a']);
  });

  it('relists when a watch stays open but silent past the watchdog', async () => {
    const fake: Fake = { lists: 0, watches: 0, items: [vm('a', '1')], onWatch: () => {} };
    const { server, client } = await fakeApi(fake);
    const informer = new Informer<KubeObject>(client, bootplaneResource('VirtualMachine'), { logger: silentLogger(), resyncMs: 0, watchdogMs: 300 });
    cleanup = async () => { await informer.stop(); await client.close(); server.closeAllConnections(); server.close(); };
    informer.start();
    await informer.waitForSync(5000);
    await expect.poll(() => fake.lists, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    expect(fake.watches).toBeGreaterThanOrEqual(2);
  });
});
