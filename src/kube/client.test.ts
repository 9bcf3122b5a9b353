import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient, retryAfterMs } from './client.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A plain HTTP server standing in for kube-apiserver, answering each request with the next reply. */
async function clientFor(replies: { status: number; headers?: Record<string, string>; body: unknown }[], seen: string[]): Promise<KubeClient> {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const reply = replies.shift() ?? { status: 500, body: { message: 'no more replies' } };
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'kubeclient-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: test',
    'clusters: [{name: test, cluster: {server: "http://127.0.0.1:' + (server.address() as AddressInfo).port + '"}}]',
    'users: [{name: test, user: {token: abc}}]',
    'contexts: [{name: test, context: {cluster: test, user: test}}]',
  ].join('\n'));
  return KubeClient.create({ kubeconfigPath: kubeconfig });
}

const tooMany = { status: 429, headers: { 'retry-after': '0.1' }, body: { kind: 'Status', reason: 'TooManyRequests', message: 'storage is (re)initializing', details: { retryAfterSeconds: 1 } } };

describe('KubeClient', () => {
  it('asks again after a 429, waiting the Retry-After it is given', async () => {
    const seen: string[] = [];
    const client = await clientFor([tooMany, tooMany, { status: 201, body: { metadata: { name: 'a' } } }], seen);
    const started = Date.now();
    const made = await client.request<{ metadata: { name: string } }>('/api/v1/namespaces', { method: 'POST', body: { metadata: { name: 'a' } } });
    expect(made.metadata.name).toBe('a');
    expect(seen).toEqual(['POST /api/v1/namespaces', 'POST /api/v1/namespaces', 'POST /api/v1/namespaces']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await client.close();
  });

  it('gives up after five 429s with the server\'s reason', async () => {
    const seen: string[] = [];
    const client = await clientFor(Array.from({ length: 6 }, () => tooMany), seen);
    await expect(client.request('/api/v1/pods')).rejects.toMatchObject({ status: 429, reason: 'TooManyRequests' });
    expect(seen).toHaveLength(6);
    await client.close();
  });

  it('reads Retry-After as seconds within bounds', () => {
    expect(retryAfterMs('1')).toBe(1_000);
    expect(retryAfterMs('0')).toBe(100);
    expect(retryAfterMs('3600')).toBe(10_000);
    expect(retryAfterMs(undefined)).toBe(1_000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT')).toBe(1_000);
  });
});
