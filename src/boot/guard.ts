// Guard rails in front of every boot request: an optional CIDR allowlist, a token bucket per
// client IP and a global cap on requests in flight. A misbehaving client (or a flood) gets 403,
// 429 or 503 and costs the server almost nothing; machines on the allowlist keep booting.
import { BlockList, isIPv4 } from 'node:net';

export class CidrAllowlist {
  private readonly list = new BlockList();
  readonly empty: boolean;

  /** cidrs: "192.0.2.0/24", "2001:db8::/32"; an empty list allows everyone. */
  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
      if (!m) throw new Error(`invalid CIDR ${JSON.stringify(cidr)} in the boot allowlist: expected address/prefix`);
      const family = isIPv4(m[1]!) ? 'ipv4' : 'ipv6';
      this.list.addSubnet(m[1]!, Number(m[2]), family);
    }
    this.empty = cidrs.length === 0;
  }

  allows(ip: string): boolean {
    if (this.empty) return true;
    // IPv4 clients of a dual-stack socket arrive as ::ffff:a.b.c.d.
    const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    return isIPv4(v4) ? this.list.check(v4, 'ipv4') : this.list.check(ip, 'ipv6');
  }
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class ClientRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** ratePerSecond 0 disables the limit. */
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxClients = 65_536,
  ) {}

  /** Takes one token; returns 0 when allowed, else the seconds to wait. */
  take(ip: string, nowMs = Date.now()): number {
    if (this.ratePerSecond <= 0) return 0;
    let bucket = this.buckets.get(ip);
    if (!bucket) {
      if (this.buckets.size >= this.maxClients) this.evict(nowMs);
      bucket = { tokens: this.burst, updatedMs: nowMs };
      this.buckets.set(ip, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * this.ratePerSecond);
      bucket.updatedMs = nowMs;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond));
  }

  /** Forgets clients whose bucket has refilled (they lose nothing), then the oldest if still full. */
  private evict(nowMs: number): void {
    for (const [ip, b] of this.buckets) {
      if (b.tokens + ((nowMs - b.updatedMs) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(ip);
    }
    if (this.buckets.size < this.maxClients) return;
    let drop = Math.ceil(this.maxClients / 10);
    for (const ip of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(ip);
    }
  }
}

export class ConcurrencyCap {
  private inFlight = 0;

  constructor(private readonly max: number) {}

  get current(): number { return this.inFlight; }

  tryAcquire(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight++;
    return true;
  }

  release(): void { this.inFlight--; }
}
