// The tgt driver and its supervisor against Debian's real tgtd on loopback: targets, LUNs,
// admission by initiator name (checked with a real iSCSI login), connections, removal,
// a killed tgtd restarted, and a portal already in use reported.
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TgtDaemon } from '../src/targets/tgt/daemon.js';
import { TgtDriver } from '../src/targets/tgt/driver.js';
import { IscsiSession } from './support/iscsi.js';
import { freePort } from './support/ports.js';

const log = pino({ level: 'silent' });
const TARGET = 'iqn.2024-01.io.bootplane:diskless-test.one';
const ALLOWED = 'iqn.2024-01.io.bootplane:525400123456';
const OTHER = 'iqn.2024-01.io.bootplane:525400aabbcc';

let dir: string;
let daemon: TgtDaemon;
let driver: TgtDriver;
let port: number;
let controlPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diskless-target-'));
  port = await freePort();
  // tgtd's management socket is /var/run/tgtd/socket.<port>: pick one no other test uses.
  controlPort = 20_000 + (port % 10_000);
  daemon = new TgtDaemon({ portal: `127.0.0.1:${port}`, controlPort, log, restartDelayMs: 200 });
  await daemon.start();
  driver = new TgtDriver({ controlPort });
});
afterAll(async () => {
  await daemon?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function loginAs(initiator: string, target = TARGET) {
  const s = await IscsiSession.connect('127.0.0.1', port);
  const result = await s.login(initiator, target);
  return { s, result };
}

describe('tgt driver on a real tgtd', () => {
  it('serves a LUN to the admitted initiator only, lists its connection and removes the target', async () => {
    expect(daemon.health.state).toBe('running');
    const disk = join(dir, 'disk.img');
    await writeFile(disk, Buffer.from('bootplane disk'));
    await truncate(disk, 4 * 1024 * 1024);
    await driver.createTarget(TARGET);
    await driver.addLun(TARGET, 1, disk);
    // Before admission nobody gets in.
    const early = await loginAs(ALLOWED);
    expect(early.result.ok).toBe(false);
    early.s.close();

    await driver.admit(TARGET, { iqn: ALLOWED });
    await driver.createTarget(TARGET); // idempotent
    await driver.addLun(TARGET, 1, disk);
    const state = (await driver.list()).get(TARGET)!;
    expect([...state.luns]).toEqual([[1, disk]]);
    expect(state.initiators).toEqual([ALLOWED]);
    expect(state.addresses).toEqual([]);

    const other = await loginAs(OTHER);
    expect(other.result).toMatchObject({ ok: false, statusClass: 2 });
    other.s.close();

    const allowed = await loginAs(ALLOWED);
    expect(allowed.result.ok).toBe(true);
    const block = await allowed.s.read(1, 0, 8);
    expect(block.subarray(0, 14).toString()).toBe('bootplane disk');
    expect(await driver.connections(TARGET)).toEqual([{ initiator: ALLOWED, address: '127.0.0.1' }]);

    await driver.remove(TARGET);
    expect((await driver.list()).has(TARGET)).toBe(false);
    await driver.remove(TARGET); // idempotent
    allowed.s.close();
  });

  it('restarts a killed tgtd with an empty table and tells its listeners', async () => {
    await driver.createTarget(TARGET);
    let started = 0;
    daemon.onStarted(() => started++);
    const before = daemon.pid!;
    process.kill(before, 'SIGKILL');
    await expect.poll(() => started, { timeout: 10_000 }).toBe(1);
    expect(daemon.pid).not.toBe(before);
    expect(daemon.health.state).toBe('running');
    expect((await driver.list()).size).toBe(0);
  });

  it('reports a portal that another process holds', async () => {
    const busyPort = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(busyPort, '127.0.0.1', r));
    const busy = new TgtDaemon({ portal: `127.0.0.1:${busyPort}`, controlPort: controlPort + 1, log });
    try {
      await busy.start();
      expect(busy.health).toMatchObject({ state: 'failed', code: 'TargetPortInUse' });
    } finally {
      await busy.stop();
      holder.close();
    }
  });

  it('names an unreachable tgtd', async () => {
    const nowhere = new TgtDriver({ controlPort: controlPort + 2 });
    await expect(nowhere.list()).rejects.toMatchObject({ code: 'TargetDaemonUnavailable' });
  });
});
