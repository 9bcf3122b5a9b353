import { describe, expect, it } from 'vitest';
import type { NodeBootAssignment } from '../api/v1alpha1/node-boot-assignment.js';
import { silentLogger } from '../observability/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { BootRecorder } from './boot-recorder.js';

const boot = (n: number) => ({ timeMs: Date.parse(`2026-01-01T00:00:0${n}Z`), clientIP: '192.0.2.50', scriptHash: 'h'.repeat(64) });

describe('BootRecorder', () => {
  it('coalesces many boots into one write and keeps counts across a failed write', async () => {
    const store = new MemoryStore();
    const a = store.put<NodeBootAssignment>('NodeBootAssignment', {
      apiVersion: 'bootplane.io/v1alpha1', kind: 'NodeBootAssignment', metadata: { name: 'n', namespace: 'lab' },
      spec: { mac: '52:54:00:12:34:56', profileRef: { name: 'p' }, bootMode: 'Once', bootOnceEpoch: 4, state: 'Enabled' },
      status: { bootCount: 10 },
    });
    const recorder = new BootRecorder(store, silentLogger(), 0);
    recorder.record(a, boot(1));
    recorder.record(a, { ...boot(2), consumedEpoch: 4 });
    expect(recorder.usedBootOnce(a)).toBe(true);
    store.failWrites = true;
    await recorder.flush();
    expect(store.statusWrites).toHaveLength(0);
    recorder.record(a, boot(3));
    store.failWrites = false;
    await recorder.flush();
    expect(store.statusWrites).toHaveLength(1);
    expect(store.statusWrites[0]!.status).toMatchObject({ bootCount: 13, bootOnceConsumedEpoch: 4, lastBoot: { time: '2026-01-01T00:00:03.000Z' } });
    const rearmed = { ...a, spec: { ...a.spec, bootOnceEpoch: 5 } };
    expect(recorder.usedBootOnce(rearmed)).toBe(false);
  });

  it('bounds the writes of one flush and keeps the rest coalescing for the next', async () => {
    const store = new MemoryStore();
    const recorder = new BootRecorder(store, silentLogger(), 0, 2);
    const machines = [1, 2, 3].map((i) => store.put<NodeBootAssignment>('NodeBootAssignment', {
      apiVersion: 'bootplane.io/v1alpha1', kind: 'NodeBootAssignment', metadata: { name: `m${i}`, namespace: 'lab' },
      spec: { mac: `52:54:00:00:00:0${i}`, profileRef: { name: 'p' }, bootMode: 'Always', bootOnceEpoch: 0, state: 'Enabled' },
    }));
    for (const m of machines) recorder.record(m, boot(1));
    await recorder.flush();
    expect(store.statusWrites.map((w) => w.key)).toEqual(['lab/m1', 'lab/m2']);
    recorder.record(machines[2]!, boot(2));
    await recorder.flush();
    expect(store.statusWrites[2]).toMatchObject({ key: 'lab/m3', status: { bootCount: 2 } });
  });
});
