import { describe, expect, it } from 'vitest';
import { WorkQueue } from './workqueue.js';

describe('WorkQueue', () => {
  it('collapses repeated adds of a queued key into one item', async () => {
    const q = new WorkQueue('t-collapse');
    for (let i = 0; i < 10; i++) q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.length).toBe(0);
  });

  it('never hands out a key that is being processed; a re-add waits until done', async () => {
    const q = new WorkQueue('t-exclusive');
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a');
    expect(q.length).toBe(0); // held back while processing
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await new Promise((r) => setTimeout(r, 10));
    expect(second).toBeUndefined();
    q.done('a');
    await new Promise((r) => setTimeout(r, 0));
    expect(second).toBe('a');
  });

  it('backs off per key exponentially from 5 ms, capped at 5 minutes, and forget resets it', () => {
    const q = new WorkQueue('t-backoff');
    expect(q.backoffFor(0)).toBe(5);
    expect(q.backoffFor(1)).toBe(10);
    expect(q.backoffFor(4)).toBe(80);
    expect(q.backoffFor(30)).toBe(300_000);
    q.addRateLimited('k');
    q.addRateLimited('k');
    expect(q.retries('k')).toBe(2);
    q.forget('k');
    expect(q.retries('k')).toBe(0);
    q.shutDown();
  });

  it('delivers a rate-limited key after its delay', async () => {
    const q = new WorkQueue('t-delay', { baseDelayMs: 20 });
    q.addRateLimited('k');
    expect(q.length).toBe(0);
    const started = Date.now();
    expect(await q.get()).toBe('k');
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('keeps the earliest of two delayed adds', async () => {
    const q = new WorkQueue('t-after');
    q.addAfter('k', 10_000);
    q.addAfter('k', 10);
    expect(await q.get()).toBe('k');
    q.shutDown();
  });

  it('releases waiting workers with undefined on shutdown', async () => {
    const q = new WorkQueue('t-shutdown');
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add('x');
    expect(q.length).toBe(0);
  });

  it('says a key is pending while it is queued or processed, not while it only waits for a delayed add', async () => {
    const q = new WorkQueue('t-pending');
    q.addAfter('later', 10_000);
    expect(q.pending('later')).toBe(false);
    q.add('k');
    expect(q.pending('k')).toBe(true);
    expect(await q.get()).toBe('k');
    expect(q.pending('k')).toBe(true);
    q.done('k');
    expect(q.pending('k')).toBe(false);
    q.shutDown();
  });
});
