import { afterEach, describe, expect, it, vi } from 'vitest';
import { SharedReads } from './shared-reads.js';

afterEach(() => vi.useRealTimers());

describe('SharedReads', () => {
  it('shares a read while it is fresh and lets it go when its time is up', async () => {
    vi.useFakeTimers();
    const reads = new SharedReads<number>(1_000);
    let loads = 0;
    const load = () => Promise.resolve(++loads);
    expect(await reads.get('pve1', load)).toBe(1);
    expect(await reads.get('pve1', load)).toBe(1);
    expect(reads.size).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(reads.size).toBe(0); // gone without being asked for again
    expect(await reads.get('pve1', load)).toBe(2);
  });

  it('keeps a read for as long as its value says, counted from when it arrived', async () => {
    vi.useFakeTimers();
    const reads = new SharedReads<string[]>((list) => list.length * 100);
    let answer!: (list: string[]) => void;
    const first = reads.get('pve1', () => new Promise((resolve) => { answer = resolve; }));
    vi.advanceTimersByTime(5_000); // a slow read is not dropped while it is under way
    expect(reads.size).toBe(1);
    answer(['a', 'b', 'c']);
    expect(await first).toEqual(['a', 'b', 'c']);
    vi.advanceTimersByTime(299);
    expect(await reads.get('pve1', () => Promise.resolve(['new']))).toEqual(['a', 'b', 'c']);
    vi.advanceTimersByTime(1);
    expect(reads.size).toBe(0);
  });

  it('does not share a read that was deleted while it was under way', async () => {
    vi.useFakeTimers();
    const reads = new SharedReads<number>(1_000);
    const before = reads.get('pve1', () => Promise.resolve(1));
    reads.delete('pve1');
    expect(await before).toBe(1);
    expect(reads.size).toBe(0);
    expect(await reads.get('pve1', () => Promise.resolve(2))).toBe(2);
  });

  it('does not share a failed read', async () => {
    const reads = new SharedReads<number>(60_000);
    await expect(reads.get('pve1', () => Promise.reject(new Error('timeout')))).rejects.toThrow('timeout');
    expect(reads.size).toBe(0);
    expect(await reads.get('pve1', () => Promise.resolve(7))).toBe(7);
  });

  it('forgets on delete and clear, and an old expiry does not drop a newer read', async () => {
    vi.useFakeTimers();
    const reads = new SharedReads<string>(1_000);
    await reads.get('a', () => Promise.resolve('a1'));
    vi.advanceTimersByTime(600);
    reads.delete('a');
    await reads.get('a', () => Promise.resolve('a2'));
    vi.advanceTimersByTime(600); // the first read's expiry time has passed
    expect(await reads.get('a', () => Promise.resolve('a3'))).toBe('a2');
    await reads.get('b', () => Promise.resolve('b1'));
    reads.clear();
    expect(reads.size).toBe(0);
  });
});
