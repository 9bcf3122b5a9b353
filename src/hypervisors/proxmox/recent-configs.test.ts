import { describe, expect, it } from 'vitest';
import { RecentConfigs } from './recent-configs.js';

describe('RecentConfigs', () => {
  it('keeps a config for the pass that read it, then lets it go', () => {
    let now = 0;
    const configs = new RecentConfigs(1_000, () => now);
    configs.set(100, { digest: 'a' });
    now = 500;
    expect(configs.get(100)).toEqual({ digest: 'a' });
    configs.set(101, { digest: 'b' });
    now = 1_200;
    expect(configs.get(100)).toBeUndefined();
    configs.set(102, { digest: 'c' }); // a read sweeps what expired
    expect(configs.size).toBe(2);
    now = 1_400;
    configs.set(101, { digest: 'b2' }); // read again: fresh, and no longer first to go
    now = 2_300;
    configs.set(103, { digest: 'd' });
    expect([configs.get(101), configs.get(102), configs.get(103)]).toEqual([{ digest: 'b2' }, undefined, { digest: 'd' }]);
    expect(configs.size).toBe(2);
  });
});

describe('RecentConfigs without further reads', () => {
  it('lets expired configs go on its own', async () => {
    const configs = new RecentConfigs(20);
    configs.set(100, { digest: 'a' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    configs.set(101, { digest: 'b' });
    expect(configs.size).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(configs.size).toBe(0);
  });
});
