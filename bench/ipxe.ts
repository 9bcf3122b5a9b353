// `ipxe`: per-machine script requests/s and p99 latency of the boot server at 50 and 500 clients
// with 1,000 and 10,000 assignments, requests spread over every MAC, the audit line and metrics
// of every request included. Measured in the same run, with the same load generator (wrk, one
// thread, so it leaves the other core to the server): the ceiling, a bare node:http server
// answering a fixed body of the same size, and Matchbox (built from its pinned source outside
// the repo) serving the same machines from its data directory.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BootProfile } from '../src/api/v1alpha1/boot-profile.js';
import type { NodeBootAssignment } from '../src/api/v1alpha1/node-boot-assignment.js';
import { AssetCache } from '../src/boot/assets.js';
import { BootRecorder } from '../src/boot/boot-recorder.js';
import { CidrAllowlist, ClientRateLimiter, ConcurrencyCap } from '../src/boot/guard.js';
import { addBootIndexes, addSessionIndexes } from '../src/boot/indexes.js';
import { BootServer } from '../src/boot/server.js';
import { UrlSigner } from '../src/boot/signed-url.js';
import { createLogger } from '../src/observability/logger.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { report } from './report.js';

const DURATION_SECONDS = Number(process.env.BENCH_IPXE_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_IPXE_ROUNDS ?? 3);
const ASSIGNMENTS = (process.env.BENCH_IPXE_ASSIGNMENTS ?? '1000,10000').split(',').map(Number);
const CLIENTS = (process.env.BENCH_IPXE_CLIENTS ?? '50,500').split(',').map(Number);
const PEERS = join(process.env.BOOTPLANE_CACHE ?? join(homedir(), '.cache', 'bootplane'), 'peers');
const MATCHBOX_TARBALL = process.env.BENCH_MATCHBOX_TARBALL ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'peers', 'matchbox-468d8f7.tar.gz');

const KERNEL_ARGS = ['console=ttyS0', 'talos.platform=metal', 'talos.config=http://192.0.2.1:8082/configs/worker.yaml'];

function macOf(i: number): string {
  return `52:54:${[(i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

// wrk picks a random machine per request; the MAC is built from its index as macOf does (wrk's
// LuaJIT has no bit operators, hence the arithmetic). A script error would make wrk request "/"
// instead, so run() checks the first answers.
const WRK_SCRIPT = `
local n = 1000
init = function(args) n = tonumber(args[1]) end
request = function()
  local i = math.random(0, n - 1)
  local f = math.floor
  local mac = string.format("52:54:%02x:%02x:%02x:%02x", f(i / 16777216) % 256, f(i / 65536) % 256, f(i / 256) % 256, i % 256)
  return wrk.format("GET", "/ipxe?mac=" .. mac .. "&uuid=&arch=x86_64&platform=pcbios")
end
`;

interface WrkResult {
  rps: number;
  p99Ms: number;
  p50Ms: number;
  errors: number;
}

function wrk(port: number, clients: number, machines: number, script: string): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t1', `-c${clients}`, `-d${DURATION_SECONDS}s`, '--timeout', '10s', '--latency', '-s', script, `http://127.0.0.1:${port}`, '--', String(machines)], { timeout: (DURATION_SECONDS + 60) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}`));
      const ms = (label: string) => {
        const m = new RegExp(`^\\s+${label}%\\s+([0-9.]+)(us|ms|s)`, 'm').exec(stdout);
        if (!m) return Number.NaN;
        return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
      };
      const rps = Number(/Requests\/sec:\s+([0-9.]+)/.exec(stdout)?.[1] ?? Number.NaN);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
      const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      const errors = non2xx + (socketErrors ? socketErrors.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0);
      resolve({ rps, p99Ms: ms('99'), p50Ms: ms('50'), errors });
    });
  });
}

/** Per-field median over rounds. */
function median(rounds: WrkResult[]): WrkResult {
  const mid = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { rps: mid(rounds.map((r) => r.rps)), p99Ms: mid(rounds.map((r) => r.p99Ms)), p50Ms: mid(rounds.map((r) => r.p50Ms)), errors: rounds.reduce((a, r) => a + r.errors, 0) };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    resolve(typeof a === 'object' && a ? a.port : 0);
  }));
}

function bootplaneServer(machines: number): { server: Server; recorder: BootRecorder; sample: () => Promise<string> } {
  const store = new MemoryStore();
  addBootIndexes(store.cache('NodeBootAssignment'), store.cache('BootProfile'));
  addSessionIndexes(store.cache('DisklessSession'));
  store.put<BootProfile>('BootProfile', {
    apiVersion: 'bootplane.io/v1alpha1', kind: 'BootProfile', metadata: { name: 'worker', namespace: 'bench' },
    spec: {
      type: 'kernel', firmware: ['bios', 'uefi'], public: false, unattended: false, localBoot: 'exit',
      kernel: { kernel: { url: 'http://192.0.2.1/vmlinuz' }, initrds: [{ url: 'http://192.0.2.1/initrd.img' }], cmdline: `${KERNEL_ARGS.join(' ')} bootplane.host={{hostname}}` },
    },
  });
  for (let i = 0; i < machines; i++) {
    store.put<NodeBootAssignment>('NodeBootAssignment', {
      apiVersion: 'bootplane.io/v1alpha1', kind: 'NodeBootAssignment', metadata: { name: `m-${i}`, namespace: 'bench' },
      spec: { mac: macOf(i), hostname: `m-${i}`, profileRef: { name: 'worker' }, bootMode: 'Always', bootOnceEpoch: 0, state: 'Enabled' },
    });
  }
  // The audit line of every request goes through the production logger (createLogger: ISO time,
  // redaction paths, its default batched asynchronous destination, here on /dev/null instead of
  // stdout) as the boot server's child, as start.ts builds it. BENCH_IPXE_LOG_LEVEL=silent measures without it (a diagnostic; the reported
  // figures keep it on).
  const log = createLogger({ level: process.env.BENCH_IPXE_LOG_LEVEL ?? 'info', file: '/dev/null' }).child({ component: 'boot' });
  const recorder = new BootRecorder(store, log, Number(process.env.BENCH_IPXE_FLUSH_MS ?? 1000));
  recorder.start();
  const boot = new BootServer({
    store, log, recorder,
    signer: new UrlSigner(),
    assets: new AssetCache({ directory: mkdtempSync(join(tmpdir(), 'bench-assets-')), maxBytes: 1 << 20 }),
    fallback: 'menu',
    allowlist: new CidrAllowlist([]),
    rateLimiter: new ClientRateLimiter(0, 1), // one load generator is one client IP: no per-IP limit here
    concurrency: new ConcurrencyCap(100_000),
  });
  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => boot.handle(req, res));
  return {
    server,
    recorder,
    sample: async () => {
      const port = (server.address() as { port: number }).port;
      return (await fetch(`http://127.0.0.1:${port}/ipxe?mac=${macOf(0)}&platform=pcbios`)).text();
    },
  };
}

async function matchboxBinary(): Promise<string | undefined> {
  const bin = join(PEERS, 'bin', 'matchbox');
  if (existsSync(bin)) return bin;
  if (!existsSync(MATCHBOX_TARBALL)) return undefined;
  mkdirSync(join(PEERS, 'bin'), { recursive: true });
  const sh = (cmd: string, args: string[], cwd?: string) => new Promise<void>((resolve, reject) => execFile(cmd, args, { cwd, timeout: 600_000 }, (err) => (err ? reject(err) : resolve())));
  await sh('tar', ['-xzf', MATCHBOX_TARBALL, '-C', PEERS]);
  await sh('go', ['build', '-o', bin, './cmd/matchbox'], join(PEERS, 'matchbox'));
  return bin;
}

async function startMatchbox(bin: string, machines: number): Promise<{ child: ChildProcess; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-matchbox-'));
  mkdirSync(join(dir, 'profiles'));
  mkdirSync(join(dir, 'groups'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'profiles', 'worker.json'), JSON.stringify({ id: 'worker', name: 'worker', boot: { kernel: 'http://192.0.2.1/vmlinuz', initrd: ['http://192.0.2.1/initrd.img'], args: KERNEL_ARGS } }));
  for (let i = 0; i < machines; i++) {
    writeFileSync(join(dir, 'groups', `m-${i}.json`), JSON.stringify({ id: `m-${i}`, name: `m-${i}`, profile: 'worker', selector: { mac: macOf(i) }, metadata: {} }));
  }
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((r) => probe.close(r));
  const child = spawn(bin, [`-address=127.0.0.1:${port}`, `-data-path=${dir}`, `-assets-path=${join(dir, 'assets')}`, '-log-level=error'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/ipxe?mac=${macOf(0)}`);
      const body = await r.text();
      if (r.ok && body.includes('kernel')) return { child, port };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('matchbox did not answer /ipxe');
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ipxe-'));
  const script = join(dir, 'machines.lua');
  writeFileSync(script, WRK_SCRIPT);
  const matchbox = await matchboxBinary().catch((err: unknown) => {
    console.error(`matchbox unavailable: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  });

  for (const machines of ASSIGNMENTS) {
    const ours = bootplaneServer(machines);
    const oursPort = await listen(ours.server);
    const body = await ours.sample();
    if (!body.includes('kernel --name vmlinuz')) throw new Error(`the boot server did not answer a script: ${body.slice(0, 200)}`);
    // The ceiling: the least any node:http handler can do, answering a body of the same size.
    const fixed = Buffer.from(body);
    const ceiling = createServer({ keepAliveTimeout: 5_000 }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': fixed.length });
      res.end(fixed);
    });
    const ceilingPort = await listen(ceiling);
    const peer = matchbox ? await startMatchbox(matchbox, machines) : undefined;

    for (const clients of CLIENTS) {
      await wrk(oursPort, clients, machines, script); // warm-up: JIT and caches
      // The machine is shared: alternate ceiling and ours in rounds and keep each one's median,
      // so a burst of outside load does not land on one side only.
      const bareRounds: WrkResult[] = [];
      const oursRounds: WrkResult[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        bareRounds.push(await wrk(ceilingPort, clients, machines, script));
        oursRounds.push(await wrk(oursPort, clients, machines, script));
      }
      const bare = median(bareRounds);
      const got = median(oursRounds);
      const common = { assignments: machines, clients, seconds: DURATION_SECONDS, rounds: ROUNDS };
      report({ name: 'ipxe-script-rps', unit: 'req/s', value: got.rps, peer: 'bare-node-http', peerValue: bare.rps, ratio: got.rps / bare.rps, errors: got.errors, target: '>=0.7', ...common });
      report({ name: 'ipxe-script-p99', unit: 'ms', value: got.p99Ms, peer: 'bare-node-http', peerValue: bare.p99Ms, ratio: got.p99Ms / bare.p99Ms, p50: got.p50Ms, target: '<=1.5', ...common });
      if (peer) {
        const mb = await wrk(peer.port, clients, machines, script);
        const note = mb.rps === 0 ? { peerNote: `matchbox completed no request within ${DURATION_SECONDS} s` } : {};
        report({ name: 'ipxe-script-rps-vs-matchbox', unit: 'req/s', value: got.rps, peer: 'matchbox', peerValue: mb.rps, ratio: mb.rps > 0 ? got.rps / mb.rps : undefined, peerErrors: mb.errors, ...note, ...common });
        if (mb.rps > 0) report({ name: 'ipxe-script-p99-vs-matchbox', unit: 'ms', value: got.p99Ms, peer: 'matchbox', peerValue: mb.p99Ms, ratio: got.p99Ms / mb.p99Ms, ...common });
      }
    }
    peer?.child.kill();
    await ours.recorder.stop();
    await new Promise((r) => ours.server.close(r));
    await new Promise((r) => ceiling.close(r));
  }
}
