// DisklessSessions against the real control plane and Debian's tgtd on loopback, supervised by
// the controller: a session is published to its machine only (checked with real iSCSI logins),
// its machine gets the sanboot script and a DHCP entry; a second session for the MAC waits,
// naming the first; deleting while connected waits (bounded) then removes the target and the
// ephemeral copy; tgtd killed is restarted and the table rebuilt; a persistent copy is kept;
// a bad checksum, a missing image and a full disk fail with their own reason, touching nothing
// of the other sessions.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../src/config/config.js';
import { runController, type RunningController } from '../src/main.js';
import { createWriteStream } from 'node:fs';
import { createLogger } from '../src/observability/logger.js';
import { TgtDriver } from '../src/targets/tgt/driver.js';
import { IscsiSession } from './support/iscsi.js';
import { condition, createNamespace, eventually, getJson, kubectl, kubectlOk } from './support/kube.js';
import { KUBECONFIG } from './support/paths.js';
import { freePort } from './support/ports.js';

const prefix = `52:54:00:${randomBytes(2).toString('hex').replace(/(..)(..)/, '$1:$2')}`;
const MAC = `${prefix}:01`;
const MAC_P = `${prefix}:02`;
const MAC_F = `${prefix}:03`;
const hex = (mac: string) => mac.replaceAll(':', '');

let controller: RunningController;
let ns: string;
let base: string;
let portal: number;
let controlPort: number;
let driver: TgtDriver;
let upstream: Server;
let upstreamUrl: string;
const work = mkdtempSync(join(tmpdir(), 'diskless-session-'));
const golden = join(work, 'golden.img');
const tiny = join(work, 'tiny');
const image = Buffer.alloc(8 * 1024 * 1024);

interface SessionStatus {
  phase?: string;
  mac?: string;
  targetIQN?: string;
  lun?: number;
  initiatorIQN?: string;
  copyPath?: string;
  copy?: { method: string; bytesCopied: number; totalBytes: number };
  connections?: { initiator: string; address: string; since: string }[];
}
const status = async (name: string) => (await getJson<{ status?: SessionStatus }>(['get', 'disklesssession', name, '-n', ns])).status ?? {};
const phaseIs = (name: string, phase: string) => eventually(async () => { const s = await status(name); return s.phase === phase && s; }, `${name} ${phase}`, 60_000);

function session(name: string, mac: string, extra = '', imageYaml = `path: ${golden}`): string {
  return `apiVersion: bootplane.io/v1alpha1
kind: DisklessSession
metadata: {name: ${name}}
spec:
  machine: {mac: "${mac}"}
  image: {${imageYaml}}
  target: {portal: "127.0.0.1:${portal}"}
${extra}`;
}

beforeAll(async () => {
  ns = await createNamespace('diskless');
  for (let i = 0; i < image.length; i += 4096) image.write(`block ${i / 4096}`, i);
  writeFileSync(golden, image);
  upstream = createServer((_req, res) => res.end(image));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/golden.img`;
  const bootPort = await freePort();
  portal = await freePort();
  controlPort = 10_000 + (portal % 10_000);
  driver = new TgtDriver({ controlPort });
  base = `http://127.0.0.1:${bootPort}`;
  controller = await runController(parseControllerConfig({
    kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0',
    bootAddr: `127.0.0.1:${bootPort}`, bootAdvertiseUrl: base, bootStatusFlushMs: 200, bootAssetCacheDir: join(work, 'assets'),
    disklessTarget: 'supervise', disklessPortalAddr: `127.0.0.1:${portal}`, disklessControlPort: controlPort,
    disklessDataDir: join(work, 'data'), disklessStopGraceSeconds: 4,
  }), createLogger({ level: 'debug', destination: createWriteStream(join(work, 'controller.log')) }));
  console.log(`controller log: ${join(work, 'controller.log')}`);
});

afterAll(async () => {
  await controller?.stop();
  upstream?.close();
  if (existsSync(tiny)) execFileSync('umount', [tiny], { stdio: 'ignore' });
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

async function login(initiator: string, target: string) {
  const s = await IscsiSession.connect('127.0.0.1', portal);
  return { s, result: await s.login(initiator, target) };
}

describe('DisklessSession on the real control plane and tgtd', () => {
  it('publishes a session to its machine only, refuses a second for the MAC, and cleans up when deleted while connected', async () => {
    await kubectlOk(['apply', '-n', ns, '-f', '-'], session('first', MAC));
    const active = await phaseIs('first', 'Active');
    const iqn = `iqn.2024-01.io.bootplane:${ns}.first`;
    expect(active).toMatchObject({ mac: MAC, targetIQN: iqn, lun: 1, initiatorIQN: `iqn.2024-01.io.bootplane:${hex(MAC)}`, copy: { method: 'sparse', bytesCopied: image.length, totalBytes: image.length } });
    expect(readFileSync(active.copyPath!)).toEqual(image);
    expect((await condition(`disklesssession/first`, 'Ready', ns))?.status).toBe('True');

    // The boot server: the machine's sanboot script, its DHCP entry, the statistics.
    const script = await (await fetch(`${base}/ipxe?mac=${MAC}&platform=pcbios`)).text();
    expect(script).toContain(`set initiator-iqn iqn.2024-01.io.bootplane:${hex(MAC)}\n`);
    expect(script).toContain(`sanboot iscsi:127.0.0.1::${portal}:1:${iqn} || goto failed\n`);
    expect(await (await fetch(`${base}/api/v1/boot/network-config?vendor=dnsmasq`)).text()).toContain(MAC);
    const stats = await (await fetch(`${base}/api/v1/boot/stats`)).json() as { diskless: { active: number; bytesCopied: number } };
    expect(stats.diskless.active).toBeGreaterThanOrEqual(1);
    expect(stats.diskless.bytesCopied).toBeGreaterThanOrEqual(image.length);

    // Only the machine's initiator gets in, and reads the session's disk.
    const stranger = await login('iqn.2024-01.io.bootplane:525400ffffff', iqn);
    expect(stranger.result).toMatchObject({ ok: false, statusClass: 2 });
    stranger.s.close();
    const machine = await login(`iqn.2024-01.io.bootplane:${hex(MAC)}`, iqn);
    expect(machine.result.ok).toBe(true);
    expect((await machine.s.read(1, 8, 8)).subarray(0, 7).toString()).toBe('block 1');
    await eventually(async () => (await status('first')).connections?.[0]?.initiator === `iqn.2024-01.io.bootplane:${hex(MAC)}`, 'connection in status', 30_000);

    // A second session for the same machine waits, naming the first.
    await kubectlOk(['apply', '-n', ns, '-f', '-'], session('second', MAC));
    const refused = await eventually(async () => { const c = await condition('disklesssession/second', 'MachineFree', ns); return c?.status === 'False' && c; }, 'second refused');
    expect(refused.reason).toBe('MachineInUse');
    expect(refused.message).toContain(`${ns}/first`);
    expect((await status('second')).phase).toBe('Pending');
    // The machine still gets the first session's disk.
    expect(await (await fetch(`${base}/ipxe?mac=${MAC}`)).text()).toContain(iqn);

    // Deleting while connected: Stopping, waiting for the disconnect up to the bound (4 s here).
    await kubectlOk(['delete', 'disklesssession', 'first', '-n', ns, '--wait=false']);
    const waiting = await eventually(async () => { const c = await condition('disklesssession/first', 'Ready', ns); return c?.reason === 'WaitingForDisconnect' && c; }, 'waiting for disconnect', 15_000, 100);
    expect(waiting.message).toContain(`iqn.2024-01.io.bootplane:${hex(MAC)} from 127.0.0.1`);
    expect((await driver.list()).has(iqn)).toBe(true);
    await eventually(async () => (await kubectl(['get', 'disklesssession', 'first', '-n', ns])).code !== 0, 'first removed after the bound', 30_000);
    expect((await driver.list()).has(iqn)).toBe(false);
    expect(existsSync(active.copyPath!)).toBe(false);
    machine.s.close();

    // The machine is free: the second session goes ahead.
    await phaseIs('second', 'Active');
    expect(await (await fetch(`${base}/ipxe?mac=${MAC}`)).text()).toContain(`iqn.2024-01.io.bootplane:${ns}.second`);
  });

  it('restarts a killed tgtd and rebuilds the target table from the sessions', async () => {
    const iqn = `iqn.2024-01.io.bootplane:${ns}.second`;
    const pid = Number(execFileSync('pgrep', ['-f', `^tgtd -f -C ${controlPort} `], { encoding: 'utf8' }).trim().split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await eventually(async () => (await driver.list().catch(() => new Map())).get(iqn)?.initiators.includes(`iqn.2024-01.io.bootplane:${hex(MAC)}`), 'target rebuilt', 60_000, 250);
    const again = await login(`iqn.2024-01.io.bootplane:${hex(MAC)}`, iqn);
    expect(again.result.ok).toBe(true);
    again.s.close();
    expect((await status('second')).phase).toBe('Active');
  });

  it('keeps a persistent copy across sessions and stops on spec.state Stopped', async () => {
    await kubectlOk(['apply', '-n', ns, '-f', '-'], session('persist', MAC_P, '  mode: persistent\n'));
    const active = await phaseIs('persist', 'Active');
    // The machine writes to its disk.
    writeFileSync(active.copyPath!, Buffer.from('written by the machine'), { flag: 'r+' });
    await kubectlOk(['patch', 'disklesssession', 'persist', '-n', ns, '--type=merge', '-p', '{"spec":{"state":"Stopped"}}']);
    await phaseIs('persist', 'Stopped');
    expect((await condition('disklesssession/persist', 'Ready', ns))?.reason).toBe('StoppedBySpec');
    expect((await driver.list()).has(`iqn.2024-01.io.bootplane:${ns}.persist`)).toBe(false);
    expect(existsSync(active.copyPath!)).toBe(true);
    // A later session of the machine finds its disk as it left it.
    await kubectlOk(['apply', '-n', ns, '-f', '-'], session('persist-2', MAC_P, '  mode: persistent\n'));
    const next = await phaseIs('persist-2', 'Active');
    expect(next.copyPath).toBe(active.copyPath);
    expect((await condition('disklesssession/persist-2', 'DiskReady', ns))?.reason).toBe('CopyReused');
    expect(readFileSync(next.copyPath!).subarray(0, 22).toString()).toBe('written by the machine');
    await kubectlOk(['delete', 'disklesssession', 'persist-2', '-n', ns]);
    expect(existsSync(active.copyPath!)).toBe(true);
  });

  it('fails a bad checksum, a missing image and a full disk with their own reasons, touching no other session', async () => {
    const good = createHash('sha256').update(image).digest('hex');
    await kubectlOk(['apply', '-n', ns, '-f', '-'], [
      session('bad-sum', MAC_F, '', `url: "${upstreamUrl}", sha256: "${'0'.repeat(64)}"`),
      session('missing', `${prefix}:04`, '', `path: ${join(work, 'no-such.img')}`),
      session('from-url', `${prefix}:05`, '', `url: "${upstreamUrl}", sha256: "${good}"`),
    ].join('---\n'));
    await phaseIs('bad-sum', 'Failed');
    expect((await condition('disklesssession/bad-sum', 'ImageReady', ns))?.reason).toBe('ImageChecksumMismatch');
    await phaseIs('missing', 'Failed');
    expect((await condition('disklesssession/missing', 'ImageReady', ns))?.reason).toBe('ImageNotFound');
    const fromUrl = await phaseIs('from-url', 'Active');
    expect(readFileSync(fromUrl.copyPath!)).toEqual(image);

    // A copy directory with 1 MiB of room for an 8 MiB image.
    mkdirSync(tiny, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tiny]);
    await kubectlOk(['apply', '-n', ns, '-f', '-'], session('full', `${prefix}:06`).replace(`target: {portal: "127.0.0.1:${portal}"}`, `target: {portal: "127.0.0.1:${portal}", copyDirectory: ${tiny}}`));
    await phaseIs('full', 'Failed');
    const full = await condition('disklesssession/full', 'DiskReady', ns);
    expect(full?.reason).toBe('DiskFull');
    expect(full?.message).toContain(tiny);

    // Nothing of the others was touched.
    expect((await status('second')).phase).toBe('Active');
    const targets = await driver.list();
    expect(targets.has(`iqn.2024-01.io.bootplane:${ns}.second`)).toBe(true);
    expect(targets.has(`iqn.2024-01.io.bootplane:${ns}.bad-sum`)).toBe(false);
    expect(targets.has(`iqn.2024-01.io.bootplane:${ns}.full`)).toBe(false);
  });
});
