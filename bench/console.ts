// `console`: the web console's two costs that grow with the fleet.
//  1. Time until the fleet view has rendered in a real browser (Debian's chromium, driven by
//     playwright-core) with 1,000 and with 10,000 VirtualMachines: from navigation start to the
//     page's `fleet-rendered` mark (HTML, bundle, /api/fleet JSON, first screen of rows).
//     Ceiling: 1,000 ms at 10,000 VMs.
//  2. SSE fan-out: 100 open streams, 1,000 status changes published at 1,000/s through the
//     cache's change handlers; delivery latency from publish to a client having parsed the event,
//     p50 and p99. Ceiling: p99 250 ms.
import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import type { VirtualMachine } from '../src/api/v1alpha1/virtual-machine.js';
import { loadConsoleAssets } from '../src/console/assets.js';
import { TokenAuth } from '../src/console/auth.js';
import { ConsoleServer } from '../src/console/server.js';
import { Cache } from '../src/kube/cache.js';
import type { InformerEvent, InformerHandler } from '../src/kube/informer.js';
import type { KubeObject } from '../src/kube/object.js';
import type { ObjectSource } from '../src/kube/source.js';
import { silentLogger } from '../src/observability/logger.js';
import { report } from './report.js';

const CHROMIUM = process.env.BOOTPLANE_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'bench-console-token-0123456789';
const STREAMS = 100;
const CHANGES = 1000;

class BenchSource implements ObjectSource {
  readonly cache = new Cache<KubeObject>();
  readonly hasSynced = true;
  private readonly handlers: InformerHandler<KubeObject>[] = [];
  on(handler: InformerHandler<KubeObject>): void { this.handlers.push(handler); }
  emit(event: InformerEvent, obj: KubeObject): void { for (const h of this.handlers) h(event, obj); }
}

function vm(i: number, generation = 1): VirtualMachine {
  const ns = `team-${i % 20}`;
  return {
    apiVersion: 'bootplane.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: { name: `vm-${String(i).padStart(5, '0')}`, namespace: ns, resourceVersion: String(generation), generation: 1 },
    spec: { hypervisorRef: { name: `pve-${i % 7}` }, proxmox: { node: 'pve1', vmid: 1000 + i } } as VirtualMachine['spec'],
    status: {
      power: i % 3 ? 'Running' : 'Stopped',
      bootOrderText: 'scsi0,ide2,net0',
      cloudInitSlot: 'scsi1',
      devices: [{ slot: 'scsi0', kind: 'disk', volume: `local-lvm:vm-${1000 + i}-disk-0` }, { slot: 'ide2', kind: 'cdrom', volume: 'local:iso/debian-12.iso' }],
      install: { state: i % 5 ? 'Installed' : 'Installing', startedAt: '2026-01-01T00:00:00Z', progressPercent: (i * 7) % 100 },
      conditions: [
        { type: 'Ready', status: i % 11 ? 'True' : 'False', reason: i % 11 ? 'Converged' : 'PlanRefused', message: 'The VM matches its spec.', lastTransitionTime: `2026-01-01T00:00:${String(generation % 60).padStart(2, '0')}Z`, observedGeneration: 1 },
      ],
    } as VirtualMachine['status'],
  };
}

async function startServer(count: number): Promise<{ url: string; vms: BenchSource; server: ConsoleServer; close(): Promise<void> }> {
  const sources = new Map<string, BenchSource>();
  for (const kind of ['VirtualMachine', 'IsoAttachment', 'Hypervisor', 'BootProfile', 'NodeBootAssignment']) sources.set(kind, new BenchSource());
  const vms = sources.get('VirtualMachine')!;
  for (let i = 0; i < count; i++) vms.cache.upsert(vm(i));
  const { assets, index } = await loadConsoleAssets();
  const server = new ConsoleServer({
    sources, auth: new TokenAuth(TOKEN), assets, index, log: silentLogger(),
    writer: { apply: async () => ({ target: 'nowhere' }) },
    events: async () => [],
  });
  const http = await server.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    vms,
    server,
    async close() {
      server.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  };
}

async function fleetRender(): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const results: Record<number, number> = {};
  try {
    for (const count of [1000, 10_000]) {
      const site = await startServer(count);
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      // Sign in once (the cookie), then time cold loads of the fleet view; the median of five.
      await page.goto(`${site.url}/?token=${TOKEN}`);
      await page.waitForSelector('body[data-fleet-rendered]');
      const times: number[] = [];
      for (let run = 0; run < 5; run++) {
        await page.goto(`${site.url}/#/fleet`, { waitUntil: 'commit' });
        await page.reload({ waitUntil: 'commit' });
        await page.waitForSelector(`body[data-fleet-rendered="${count}"]`, { timeout: 30_000 });
        times.push(await page.evaluate(() => performance.getEntriesByName('fleet-rendered')[0]!.startTime));
      }
      times.sort((a, b) => a - b);
      results[count] = times[2]!;
      await context.close();
      await site.close();
    }
  } finally {
    await browser.close();
  }
  report({ name: 'console-fleet-render', unit: 'ms', value: results[10_000]!, vms1000: results[1000]!, vms10000: results[10_000]!, ceiling: 1000, ratio: results[10_000]! / 1000 });
}

async function cookie(url: string): Promise<string> {
  const res = await fetch(`${url}/?token=${TOKEN}`, { redirect: 'manual' });
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

async function sseFanOut(): Promise<void> {
  const site = await startServer(CHANGES);
  const session = await cookie(site.url);
  const latencies: number[] = [];
  let delivered = 0;
  let allDelivered!: () => void;
  const done = new Promise<void>((r) => (allDelivered = r));
  const responses: IncomingMessage[] = [];
  await Promise.all(Array.from({ length: STREAMS }, () => new Promise<void>((resolve, reject) => {
    const req = request(`${site.url}/api/events`, { headers: { cookie: session, accept: 'text/event-stream' } }, (res) => {
      responses.push(res);
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const message = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = message.split('\n').find((l) => l.startsWith('data: '));
          if (!data) continue;
          const { sentAt } = JSON.parse(data.slice(6)) as { sentAt: number };
          latencies.push(Date.now() - sentAt);
          if (++delivered === STREAMS * CHANGES) allDelivered();
        }
      });
      resolve();
    });
    req.on('error', reject);
    req.end();
  })));
  while (site.server.live.size < STREAMS) await new Promise((r) => setTimeout(r, 10));
  const started = performance.now();
  for (let i = 0; i < CHANGES; i += 10) {
    for (let j = i; j < i + 10; j++) {
      const next = vm(j, 2);
      site.vms.cache.upsert(next);
      site.vms.emit('update', next);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 60_000))]);
  const seconds = (performance.now() - started) / 1000;
  for (const res of responses) res.destroy();
  await site.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  report({ name: 'console-sse-fanout-p99', unit: 'ms', value: at(0.99), p50: at(0.5), max: latencies[latencies.length - 1] ?? NaN, streams: STREAMS, changes: CHANGES, delivered, expected: STREAMS * CHANGES, seconds, ceiling: 250, ratio: at(0.99) / 250 });
}

export async function run(): Promise<void> {
  await fleetRender();
  await sseFanOut();
}
