import { describe, expect, it } from 'vitest';
import { fromEnvironment, parseControllerConfig, splitAddress } from './config.js';

describe('controller config', () => {
  it('reads BOOTPLANE_* variables and coerces numbers and booleans', () => {
    const config = parseControllerConfig(fromEnvironment({ BOOTPLANE_CONCURRENCY: '8', BOOTPLANE_LEADER_ELECT: 'false', BOOTPLANE_METRICS_ADDR: '127.0.0.1:9090' }));
    expect(config.concurrency).toBe(8);
    expect(config.leaderElect).toBe(false);
    expect(splitAddress(config.metricsAddr)).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(splitAddress(':8081')).toEqual({ host: '0.0.0.0', port: 8081 });
  });

  it('names the flag that is wrong', () => {
    expect(() => parseControllerConfig({ concurrency: 'many' })).toThrow(/--concurrency/);
    expect(() => parseControllerConfig({ healthAddr: 'nope' })).toThrow(/--healthAddr: expected host:port/);
  });
});
