// The reconciler against a fake target driver (the real tgtd is in test/diskless-*.test.ts):
// the exact target actions of a session's life, and what a failing image leaves behind.
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DisklessSession } from '../../api/v1alpha1/diskless-session.js';
import { addSessionIndexes } from '../../boot/indexes.js';
import { MemoryStore } from '../../store/memory-store.js';
import type { InitiatorAdmission, TargetConnection, TargetDriver, TargetState } from '../../targets/driver.js';
import type { TargetHost } from '../../targets/host.js';
import { ImageSource } from '../../targets/images/source.js';
import { Jobs } from '../../targets/jobs.js';
import { DisklessSessionReconciler } from './reconciler.js';

class FakeDriver implements TargetDriver {
  readonly name = 'fake';
  readonly actions: string[] = [];
  connected: TargetConnection[] = [];
  async list(): Promise<Map<string, TargetState>> { return new Map(); }
  async createTarget(iqn: string) { this.actions.push(`create ${iqn}`); }
  async addLun(iqn: string, lun: number, file: string) { this.actions.push(`lun ${iqn} ${lun} ${file.split('/').pop()}`); }
  async admit(iqn: string, who: InitiatorAdmission) { this.actions.push(`admit ${iqn} ${who.iqn}`); }
  async connections() { return this.connected; }
  async remove(iqn: string) { this.actions.push(`remove ${iqn}`); }
}

function setUp(now: { ms: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'dls-reconcile-'));
  const golden = join(dir, 'golden.img');
  writeFileSync(golden, Buffer.alloc(64 * 1024, 7));
  const driver = new FakeDriver();
  const host: TargetHost = {
    driver, health: () => ({ state: 'running' }), onTableLost: () => undefined,
    images: new ImageSource(join(dir, 'cache')), imageJobs: new Jobs(), copyJobs: new Jobs(),
    copyDirectory: join(dir, 'copies'), stopGraceMs: 60_000, start: async () => undefined, stop: async () => undefined,
  };
  const store = new MemoryStore();
  addSessionIndexes(store.cache('DisklessSession'));
  const reconciler = new DisklessSessionReconciler(store, host, () => now.ms);
  const session = (name: string, image = golden): DisklessSession => store.put('DisklessSession', {
    apiVersion: 'bootplane.io/v1alpha1', kind: 'DisklessSession',
    metadata: { name, namespace: 'lab', uid: `${name}-uid-0000`, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { machine: { mac: '52:54:00:12:34:56' }, image: { path: image }, mode: 'ephemeral', deletePersistentCopy: false, target: { driver: 'tgt', portal: '192.0.2.1:3260' }, chap: false, state: 'Active', maxDurationSeconds: 600 },
  });
  const get = (name: string) => store.get<DisklessSession>('DisklessSession', `lab/${name}`)!;
  const settle = async (name: string, phase: string) => {
    for (let i = 0; i < 200 && get(name).status?.phase !== phase; i++) {
      await reconciler.reconcile({ namespace: 'lab', name });
      await new Promise((r) => setTimeout(r, 5));
    }
    return get(name);
  };
  return { driver, store, reconciler, session, get, settle, dir };
}

describe('DisklessSessionReconciler', () => {
  it('publishes, then at max duration waits for the connected machine, then removes target and copy', async () => {
    const now = { ms: Date.parse('2026-01-01T00:00:10Z') };
    const { driver, reconciler, session, settle, get, store } = setUp(now);
    session('lab-1');
    const active = await settle('lab-1', 'Active');
    expect(driver.actions).toEqual([
      'create iqn.2024-01.io.bootplane:lab.lab-1',
      'lun iqn.2024-01.io.bootplane:lab.lab-1 1 lab_lab-1_lab-1-ui.img',
      'admit iqn.2024-01.io.bootplane:lab.lab-1 iqn.2024-01.io.bootplane:525400123456',
    ]);
    expect(active.status).toMatchObject({ startedAt: '2026-01-01T00:00:10Z', expiresAt: '2026-01-01T00:10:10Z', copy: { method: 'sparse', bytesCopied: 65536 } });
    expect(existsSync(active.status!.copyPath!)).toBe(true);
    // Each condition moved forward once: no flapping while the image was checked and copied.
    expect(store.events.filter((e) => e.reason === 'Verified')).toHaveLength(1);

    // Expired while the machine is connected: Stopping, target kept within the grace period.
    driver.actions.length = 0;
    driver.connected = [{ initiator: 'iqn.2024-01.io.bootplane:525400123456', address: '192.0.2.50' }];
    now.ms = Date.parse('2026-01-01T00:10:11Z');
    const result = await reconciler.reconcile({ namespace: 'lab', name: 'lab-1' });
    expect(get('lab-1').status?.phase).toBe('Stopping');
    expect(get('lab-1').status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('WaitingForDisconnect');
    expect(result?.requeueAfterMs).toBeGreaterThan(0);
    expect(driver.actions).toEqual([]);

    // Past the bound: removed though still connected; the ephemeral copy goes.
    now.ms += 61_000;
    await reconciler.reconcile({ namespace: 'lab', name: 'lab-1' });
    expect(driver.actions).toEqual(['remove iqn.2024-01.io.bootplane:lab.lab-1']);
    expect(get('lab-1').status?.phase).toBe('Stopped');
    expect(get('lab-1').status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('Expired');
    expect(existsSync(active.status!.copyPath!)).toBe(false);
    expect(store.events.map((e) => e.reason)).toContain('Expired');
    // Ended for good: later passes do nothing.
    driver.actions.length = 0;
    await reconciler.reconcile({ namespace: 'lab', name: 'lab-1' });
    expect(driver.actions).toEqual([]);
    expect(get('lab-1').status?.phase).toBe('Stopped');
  });

  it('fails a missing image without creating a target, and refuses a second session for the machine', async () => {
    const now = { ms: Date.parse('2026-01-01T00:00:10Z') };
    const { driver, session, settle, get, dir } = setUp(now);
    session('broken', join(dir, 'missing.img'));
    expect((await settle('broken', 'Failed')).status?.conditions?.find((c) => c.type === 'ImageReady')?.reason).toBe('ImageNotFound');
    // No target was made; failing makes sure none is left (an idempotent remove).
    expect(driver.actions.filter((a) => !a.startsWith('remove iqn.2024-01.io.bootplane:lab.broken'))).toEqual([]);
    session('first');
    await settle('first', 'Active');
    session('second');
    const refused = await settle('second', 'Pending');
    const free = refused.status?.conditions?.find((c) => c.type === 'MachineFree');
    expect(free).toMatchObject({ status: 'False', reason: 'MachineInUse' });
    expect(free?.message).toContain('lab/first');
    expect(get('second').status?.targetIQN).toBeUndefined();
  });
});
