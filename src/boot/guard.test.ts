import { describe, expect, it } from 'vitest';
import { CidrAllowlist, ClientRateLimiter, ConcurrencyCap } from './guard.js';
import { UrlSigner } from './signed-url.js';

describe('guard rails', () => {
  it('allows only listed networks, IPv4-mapped clients included', () => {
    const list = new CidrAllowlist(['192.0.2.0/24', '2001:db8::/32']);
    expect(list.allows('192.0.2.77')).toBe(true);
    expect(list.allows('::ffff:192.0.2.77')).toBe(true);
    expect(list.allows('198.51.100.1')).toBe(false);
    expect(list.allows('2001:db8::1')).toBe(true);
    expect(new CidrAllowlist([]).allows('203.0.113.9')).toBe(true);
    expect(() => new CidrAllowlist(['192.0.2.0'])).toThrow(/invalid CIDR/);
  });

  it('gives each client a burst, then its rate, independently of others', () => {
    const limiter = new ClientRateLimiter(2, 3);
    const t = 1_000_000;
    expect([1, 2, 3].map(() => limiter.take('a', t))).toEqual([0, 0, 0]);
    expect(limiter.take('a', t)).toBeGreaterThan(0);
    expect(limiter.take('b', t)).toBe(0);
    expect(limiter.take('a', t + 500)).toBe(0);
    expect(limiter.take('a', t + 500)).toBeGreaterThan(0);
  });

  it('keeps its memory bounded under many clients', () => {
    const limiter = new ClientRateLimiter(1, 1, 100);
    for (let i = 0; i < 1000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`, 5000);
    expect((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(100);
  });

  it('caps requests in flight', () => {
    const cap = new ConcurrencyCap(2);
    expect([cap.tryAcquire(), cap.tryAcquire(), cap.tryAcquire()]).toEqual([true, true, false]);
    cap.release();
    expect(cap.tryAcquire()).toBe(true);
  });
});

describe('signed URLs', () => {
  it('verifies its own signature until it expires, and nothing else', () => {
    const signer = new UrlSigner(Buffer.alloc(32, 7), 600);
    const now = 1_700_000_000_000;
    const q = new URLSearchParams(signer.sign('ignition', '52:54:00:12:34:56', now));
    const [mac, exp, sig] = [q.get('mac')!, q.get('exp')!, q.get('sig')!];
    expect(signer.verify('ignition', mac, exp, sig, now)).toBe('valid');
    expect(signer.verify('cloud-config', mac, exp, sig, now)).toBe('invalid');
    expect(signer.verify('ignition', '52:54:00:12:34:57', exp, sig, now)).toBe('invalid');
    expect(signer.verify('ignition', mac, String(Number(exp) + 60), sig, now)).toBe('invalid');
    expect(signer.verify('ignition', mac, exp, sig, now + 700_000)).toBe('expired');
    expect(new UrlSigner(Buffer.alloc(32, 8)).verify('ignition', mac, exp, sig, now)).toBe('invalid');
  });
});
