// XDR (RFC 4506) as libvirt's remote protocol uses it: big-endian 4-byte units, strings and
// variable opaques carry a length and are zero-padded to 4 bytes, optional values ("pointers")
// are a 4-byte boolean followed by the value. Hypers (64-bit) are read as bigint and converted
// to number only where the value is known to fit (sizes below 2^53).

export class XdrError extends Error {
  readonly code = 'XdrError';
  constructor(message: string) {
    super(message);
  }
}

const pad = (n: number) => (4 - (n % 4)) % 4;

export class XdrWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initial = 256) {
    this.buf = Buffer.alloc(initial);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  int(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new XdrError(`int out of range: ${v}`);
    this.ensure(4);
    this.buf.writeInt32BE(v, this.len);
    this.len += 4;
    return this;
  }

  uint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new XdrError(`unsigned int out of range: ${v}`);
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.len);
    this.len += 4;
    return this;
  }

  bool(v: boolean): this {
    return this.int(v ? 1 : 0);
  }

  hyper(v: bigint | number): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt(v), this.len);
    this.len += 8;
    return this;
  }

  uhyper(v: bigint | number): this {
    const b = BigInt(v);
    if (b < 0n) throw new XdrError(`unsigned hyper out of range: ${v}`);
    this.ensure(8);
    this.buf.writeBigUInt64BE(b, this.len);
    this.len += 8;
    return this;
  }

  /** Fixed-length opaque (e.g. a 16-byte UUID): no length word. */
  fixedOpaque(bytes: Uint8Array, size: number): this {
    if (bytes.length !== size) throw new XdrError(`fixed opaque must be ${size} bytes, got ${bytes.length}`);
    this.ensure(size + pad(size));
    this.buf.set(bytes, this.len);
    this.len += size;
    this.buf.fill(0, this.len, this.len + pad(size));
    this.len += pad(size);
    return this;
  }

  opaque(bytes: Uint8Array): this {
    this.uint(bytes.length);
    return this.fixedOpaque(bytes, bytes.length);
  }

  string(s: string): this {
    return this.opaque(Buffer.from(s, 'utf8'));
  }

  /** An optional value: a presence word, then the value when present. */
  optional<T>(v: T | undefined | null, write: (w: this, value: T) => void): this {
    if (v === undefined || v === null) return this.bool(false);
    this.bool(true);
    write(this, v);
    return this;
  }

  array<T>(items: readonly T[], write: (w: this, item: T) => void): this {
    this.uint(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

export class XdrReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new XdrError(`truncated XDR: need ${n} bytes at offset ${this.pos}, have ${this.remaining}`);
  }

  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  bool(): boolean {
    const v = this.int();
    if (v !== 0 && v !== 1) throw new XdrError(`invalid XDR boolean ${v}`);
    return v === 1;
  }

  hyper(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  uhyper(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** An unsigned hyper that must fit a JS number exactly (byte counts, versions). */
  uhyperNumber(): number {
    const v = this.uhyper();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new XdrError(`unsigned hyper ${v} exceeds 2^53`);
    return Number(v);
  }

  fixedOpaque(size: number): Buffer {
    this.need(size + pad(size));
    const out = this.buf.subarray(this.pos, this.pos + size);
    this.pos += size + pad(size);
    return out;
  }

  opaque(max = Number.MAX_SAFE_INTEGER): Buffer {
    const n = this.uint();
    if (n > max) throw new XdrError(`opaque of ${n} bytes exceeds its bound ${max}`);
    return this.fixedOpaque(n);
  }

  string(max?: number): string {
    return this.opaque(max).toString('utf8');
  }

  optional<T>(read: (r: this) => T): T | undefined {
    return this.bool() ? read(this) : undefined;
  }

  array<T>(read: (r: this) => T, max = 1 << 20): T[] {
    const n = this.uint();
    if (n > max) throw new XdrError(`array of ${n} items exceeds its bound ${max}`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read(this));
    return out;
  }

  /** Decoding must consume the whole payload: trailing bytes mean a type mismatch. */
  end(): void {
    if (this.remaining !== 0) throw new XdrError(`${this.remaining} unread bytes after XDR value`);
  }
}
