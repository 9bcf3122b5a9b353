import { afterEach, describe, expect, it, vi } from 'vitest';
import { BURST_RECONCILES, checkIdle, IdleCollection, QUIET_MS } from './idle-collection.js';

afterEach(() => {
  vi.useRealTimers();
  delete (globalThis as { gc?: unknown }).gc;
});

const fresh = { quietSince: undefined, reconciledAtCollection: 0 };

describe('checkIdle', () => {
  it('collects once the queues have been empty for QUIET_MS after a burst, then not again until the next burst', () => {
    const burst = [{ idle: true, reconciled: BURST_RECONCILES }, { idle: true, reconciled: 5 }];
    let checked = checkIdle(fresh, burst, 1_000);
    expect(checked.collect).toBe(false);
    checked = checkIdle(checked.state, burst, 1_000 + QUIET_MS);
    expect(checked.collect).toBe(true);
    checked = checkIdle(checked.state, [{ idle: true, reconciled: BURST_RECONCILES + 10 }, { idle: true, reconciled: 5 }], 60_000);
    expect(checked.collect).toBe(false);
  });

  it('waits while any queue has work, and does not collect after a handful of reconciles', () => {
    const busy = checkIdle({ quietSince: 0, reconciledAtCollection: 0 }, [{ idle: false, reconciled: 5_000 }, { idle: true, reconciled: 0 }], 10_000);
    expect(busy).toEqual({ collect: false, state: { quietSince: undefined, reconciledAtCollection: 0 } });
    const small = checkIdle({ quietSince: 0, reconciledAtCollection: 0 }, [{ idle: true, reconciled: BURST_RECONCILES - 1 }], 10_000);
    expect(small.collect).toBe(false);
  });
});

describe('IdleCollection', () => {
  it('asks V8 for its memory-reducing full collection (node --expose-gc), once the queues drained after a burst', () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    (globalThis as { gc?: unknown }).gc = gc;
    const idle = new IdleCollection(() => [{ idle: true, reconciled: BURST_RECONCILES }]);
    idle.start();
    vi.advanceTimersByTime(QUIET_MS + 2_000);
    idle.stop();
    expect(gc).toHaveBeenCalledTimes(1);
    expect(gc).toHaveBeenCalledWith({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  });

  it('does nothing without --expose-gc', () => {
    vi.useFakeTimers();
    const idle = new IdleCollection(() => [{ idle: true, reconciled: BURST_RECONCILES }]);
    idle.start();
    expect(() => vi.advanceTimersByTime(QUIET_MS + 2_000)).not.toThrow();
    idle.stop();
  });
});
