// `assets`: aggregate throughput of concurrent downloads of one large file from the boot
// server's asset endpoint (a profile's kernel served from --boot-asset-dir, audit line and
// metrics on) against nginx from Debian (one worker, sendfile, access log on) serving the same
// file, same load generator (wrk, one thread), same run. Target: >= 0.8 of nginx.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BootProfile } from '../src/api/v1alpha1/boot-profile.js';
import { AssetCache } from '../src/boot/assets.js';
import { BootRecorder } from '../src/boot/boot-recorder.js';
import { CidrAllowlist, ClientRateLimiter, ConcurrencyCap } from '../src/boot/guard.js';
import { addBootIndexes, addSessionIndexes } from '../src/boot/indexes.js';
import { BootServer } from '../src/boot/server.js';
import { UrlSigner } from '../src/boot/signed-url.js';
import { createLogger } from '../src/observability/logger.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { report } from './report.js';

const SIZE_MB = Number(process.env.BENCH_ASSETS_MB ?? 100);
const CLIENTS = Number(process.env.BENCH_ASSETS_CLIENTS ?? 50);
const SECONDS = Number(process.env.BENCH_ASSETS_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ASSETS_ROUNDS ?? 3);

function bigFile(dir: string): string {
  const path = join(dir, 'big.img');
  const chunk = randomBytes(1 << 20);
  const fd = openSync(path, 'w');
  for (let i = 0; i < SIZE_MB; i++) writeSync(fd, chunk);
  closeSync(fd);
  return path;
}

/** MB/s from wrk's "Transfer/sec" (decimal megabytes, as wrk counts them in binary units). */
function wrkThroughput(url: string): Promise<{ mbPerSecond: number; requests: number; errors: number }> {
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t1', `-c${CLIENTS}`, `-d${SECONDS}s`, '--timeout', '60s', url], { timeout: (SECONDS + 90) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}`));
      const m = /Transfer\/sec:\s+([0-9.]+)(B|KB|MB|GB)/.exec(stdout);
      const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(m?.[2] ?? 'B') as 'B'];
      const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
      resolve({ mbPerSecond: (Number(m?.[1] ?? 0) * unit) / 1e6, requests, errors: non2xx });
    });
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

async function startNginx(root: string, dir: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'nginx-error.log')};
events { worker_connections 1024; }
http {
  access_log /dev/null;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`);
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' })).status < 500) return { child, port };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('nginx did not start');
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-assets-'));
  chmodSync(dir, 0o755); // nginx's worker drops root and must be able to read the file
  chmodSync(bigFile(dir), 0o644);
  const store = new MemoryStore();
  addBootIndexes(store.cache('NodeBootAssignment'), store.cache('BootProfile'));
  addSessionIndexes(store.cache('DisklessSession'));
  store.put<BootProfile>('BootProfile', {
    apiVersion: 'bootplane.io/v1alpha1', kind: 'BootProfile', metadata: { name: 'big', namespace: 'bench' },
    spec: { type: 'kernel', firmware: ['bios', 'uefi'], public: false, unattended: false, localBoot: 'exit', kernel: { kernel: { path: 'big.img' }, cmdline: '' } },
  });
  // The production logger and its default destination, on /dev/null instead of stdout.
  const log = createLogger({ level: 'info', file: '/dev/null' }).child({ component: 'boot' });
  const boot = new BootServer({
    store, log, recorder: new BootRecorder(store, log, 0), signer: new UrlSigner(),
    assets: new AssetCache({ directory: join(dir, 'cache'), maxBytes: 1 << 20 }), assetDirectory: dir,
    fallback: 'menu', allowlist: new CidrAllowlist([]), rateLimiter: new ClientRateLimiter(0, 1), concurrency: new ConcurrencyCap(100_000),
  });
  const ours = createServer((req, res) => boot.handle(req, res));
  const oursPort = await listen(ours);
  const nginx = await startNginx(dir, mkdtempSync(join(tmpdir(), 'bench-nginx-')));
  try {
    const oursUrl = `http://127.0.0.1:${oursPort}/boot/assets/bench/big/big.img`;
    const nginxUrl = `http://127.0.0.1:${nginx.port}/big.img`;
    const size = Number((await fetch(oursUrl, { method: 'HEAD' })).headers.get('content-length'));
    if (size !== SIZE_MB << 20) throw new Error(`the asset endpoint announced ${size} bytes`);
    // The machine is shared: alternate nginx and ours in rounds and compare each side's median.
    const peerRounds: Awaited<ReturnType<typeof wrkThroughput>>[] = [];
    const oursRounds: Awaited<ReturnType<typeof wrkThroughput>>[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      peerRounds.push(await wrkThroughput(nginxUrl));
      oursRounds.push(await wrkThroughput(oursUrl));
    }
    const median = (rounds: typeof peerRounds) => [...rounds].sort((a, b) => a.mbPerSecond - b.mbPerSecond)[Math.floor(rounds.length / 2)]!;
    const peer = median(peerRounds);
    const got = median(oursRounds);
    const errors = [...peerRounds, ...oursRounds].reduce((sum, r) => sum + r.errors, 0);
    report({ name: 'assets-throughput', unit: 'MB/s', value: got.mbPerSecond, peer: 'nginx', peerValue: peer.mbPerSecond, ratio: got.mbPerSecond / peer.mbPerSecond, target: '>=0.8', fileMB: SIZE_MB, clients: CLIENTS, seconds: SECONDS, rounds: ROUNDS, roundRatios: oursRounds.map((r, i) => Math.round((r.mbPerSecond / peerRounds[i]!.mbPerSecond) * 1000) / 1000), downloads: got.requests, peerDownloads: peer.requests, errors });
  } finally {
    nginx.child.kill();
    await new Promise((r) => ours.close(r));
  }
}
