// Short-lived signed URLs for per-machine configuration. A MAC identifies a machine but proves
// nothing (anyone can send any MAC), so /ignition and /cloud-config answer only a URL this
// server put into that machine's own script: HMAC-SHA256 over (purpose, MAC, expiry).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type SignedPurpose = 'ignition' | 'cloud-config';

export class UrlSigner {
  private readonly key: Buffer;

  /** key: at least 32 bytes; generated per process when not configured (then URLs die with it). */
  constructor(key?: Buffer, private readonly ttlSeconds = 600) {
    this.key = key ?? randomBytes(32);
    if (this.key.length < 32) throw new Error('the boot URL signing key must be at least 32 bytes');
  }

  /**
   * Query string (without "?") for a URL valid for at least ttlSeconds. The expiry is rounded up
   * to the minute, so scripts rendered within one minute are identical and can be cached.
   */
  sign(purpose: SignedPurpose, mac: string, nowMs = Date.now()): string {
    const expires = Math.ceil((nowMs / 1000 + this.ttlSeconds) / 60) * 60;
    return `mac=${mac}&exp=${expires}&sig=${this.mac(purpose, mac, expires)}`;
  }

  /** The minute bucket the current signature belongs to (part of a script cache key). */
  bucket(nowMs = Date.now()): number {
    return Math.ceil((nowMs / 1000 + this.ttlSeconds) / 60);
  }

  verify(purpose: SignedPurpose, mac: string, expires: string, signature: string, nowMs = Date.now()): 'valid' | 'expired' | 'invalid' {
    if (!/^[0-9]{1,12}$/.test(expires) || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return 'invalid';
    const expected = Buffer.from(this.mac(purpose, mac, Number(expires)));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    return Number(expires) * 1000 < nowMs ? 'expired' : 'valid';
  }

  private mac(purpose: SignedPurpose, mac: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${purpose}\n${mac}\n${expires}`).digest('base64url');
  }
}
