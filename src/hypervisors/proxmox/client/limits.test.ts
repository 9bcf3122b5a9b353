import { describe, expect, it } from 'vitest';
import { KeyedSerializer, NodeTaskLimiter } from './limits.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedSerializer', () => {
  it('runs calls for one key one after another, and other keys alongside', async () => {
    const s = new KeyedSerializer();
    const log: string[] = [];
    let releaseFirst!: () => void;
    const first = s.run('100', async () => { log.push('a-start'); await new Promise<void>((r) => { releaseFirst = r; }); log.push('a-end'); });
    const second = s.run('100', async () => { log.push('b'); });
    const other = s.run('101', async () => { log.push('other'); });
    await other;
    await tick();
    expect(log).toEqual(['a-start', 'other']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(log).toEqual(['a-start', 'other', 'a-end', 'b']);
    expect(s.activeKeys).toBe(0);
  });

  it('keeps going after a failure', async () => {
    const s = new KeyedSerializer();
    await expect(s.run('k', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await s.run('k', async () => 7)).toBe(7);
  });
});

describe('NodeTaskLimiter', () => {
  it('caps slots per node and hands a freed slot to the next waiter', async () => {
    const l = new NodeTaskLimiter(2, 60_000);
    const r1 = await l.acquire('pve1');
    await l.acquire('pve1');
    await l.acquire('pve2');
    let third = false;
    const waiting = l.acquire('pve1').then((r) => { third = true; return r; });
    await tick();
    expect(third).toBe(false);
    expect(l.inFlight('pve1')).toBe(2);
    r1();
    await waiting;
    expect(third).toBe(true);
    expect(l.inFlight('pve1')).toBe(2);
  });

  it('holds a slot for a task until it is seen finished', async () => {
    const l = new NodeTaskLimiter(1, 60_000);
    const release = await l.acquire('pve1');
    l.holdForTask('pve1', 'UPID:x', release);
    const abort = new AbortController();
    const blocked = l.acquire('pve1', abort.signal);
    abort.abort(new Error('gave up'));
    await expect(blocked).rejects.toThrow('gave up');
    l.finish('UPID:x');
    expect(l.inFlight('pve1')).toBe(0);
    const again = await l.acquire('pve1');
    again();
  });

  it('frees a leased slot when the lease runs out', async () => {
    const l = new NodeTaskLimiter(1, 20);
    l.holdForTask('pve1', 'UPID:y', await l.acquire('pve1'));
    const next = await l.acquire('pve1');
    expect(l.inFlight('pve1')).toBe(1);
    next();
  });
});
