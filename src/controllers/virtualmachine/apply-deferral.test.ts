import { describe, expect, it } from 'vitest';
import { DriverError } from '../../hypervisors/driver.js';
import { PveApiError, PveTransportError } from '../../hypervisors/proxmox/client/errors.js';
import { applyDeferral, backoffSince, DEFERRAL_MAX_MS, DEFERRAL_MIN_MS } from './apply-deferral.js';

const now = new Date('2026-11-22T10:00:00Z');
const wrapped = (cause: Error) => new DriverError('ApplyFailed', `Change 1 of 2 to VM 501 on pve1 failed: ${cause.message}.`, { cause });

describe('applyDeferral', () => {
  it('defers a write refused for a lock, naming the lock, without rolling back', () => {
    const d = applyDeferral(wrapped(new PveApiError(500, 'PUT', '/nodes/pve1/qemu/501/config', 'VM is locked (backup)\n', undefined)), undefined, now);
    expect(d?.condition).toMatchObject({ type: 'MediaConfigured', status: 'False', reason: 'VmLocked' });
    expect(d?.condition.message).toContain('locked (backup)');
    expect(d?.requeueAfterMs).toBe(DEFERRAL_MIN_MS);
  });

  it('defers a write that got no answer, saying its outcome is unknown', () => {
    const d = applyDeferral(wrapped(new PveTransportError('Timeout', 'PUT /nodes/pve1/qemu/501/config on https://pve:8006 got no answer within 5000 ms')), undefined, now);
    expect(d?.condition.reason).toBe('HypervisorTimeout');
    expect(d?.condition.message).toContain('unknown');
  });

  it('leaves other failures to the rollback', () => {
    expect(applyDeferral(wrapped(new PveApiError(500, 'PUT', '/x', 'unable to create image: storage exhausted', undefined)), undefined, now)).toBeUndefined();
    expect(applyDeferral(new Error('boom'), undefined, now)).toBeUndefined();
  });
});

describe('backoffSince', () => {
  const update = { type: 'MediaConfigured', status: 'False' as const, reason: 'VmLocked', message: 'm' };
  const since = (ms: number) => [{ ...update, lastTransitionTime: new Date(now.getTime() - ms).toISOString() }];

  it('waits as long as the fault has lasted, between the floor and the cap', () => {
    expect(backoffSince(undefined, update, now)).toBe(DEFERRAL_MIN_MS);
    expect(backoffSince(since(500), update, now)).toBe(DEFERRAL_MIN_MS);
    expect(backoffSince(since(8_000), update, now)).toBe(8_000);
    expect(backoffSince(since(3_600_000), update, now)).toBe(DEFERRAL_MAX_MS);
  });

  it('starts over when the condition had another reason', () => {
    expect(backoffSince([{ ...since(30_000)[0]!, reason: 'ApplyFailed' }], update, now)).toBe(DEFERRAL_MIN_MS);
  });
});
