// Kernels, initrds and ISOs for /boot/assets: fetched once from their URL into a bounded disk
// cache (SHA-256 verified before anything is served; concurrent requests for one file share one
// download; least recently used files go first when the cache is full), or read from a local
// directory that a request can never leave.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export class AssetError extends Error {
  constructor(
    readonly code: 'AssetNotFound' | 'ChecksumMismatch' | 'FetchFailed' | 'TooLarge' | 'OutsideAssetDirectory',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface AssetFile {
  path: string;
  size: number;
}

interface Entry extends AssetFile {
  lastUsedMs: number;
}

export interface AssetCacheOptions {
  directory: string;
  maxBytes: number;
  fetchTimeoutMs?: number;
  /** Test seam for the upstream download; defaults to fetch. */
  fetchImpl?: typeof fetch;
}

export class AssetCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<AssetFile>>();
  private usedBytes = 0;
  private loaded: Promise<void> | undefined;
  /** Upstream downloads started (one per file however many clients asked at once). */
  downloads = 0;

  constructor(private readonly options: AssetCacheOptions) {}

  get bytes(): number { return this.usedBytes; }

  /** A verified local copy of url; downloads it (once) if it is not cached. */
  async get(url: string, sha256?: string): Promise<AssetFile> {
    await (this.loaded ??= this.load());
    const key = cacheKey(url, sha256);
    const hit = this.entries.get(key);
    if (hit) {
      hit.lastUsedMs = Date.now();
      return hit;
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.download(key, url, sha256).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async load(): Promise<void> {
    await mkdir(this.options.directory, { recursive: true });
    for (const name of await readdir(this.options.directory)) {
      const path = join(this.options.directory, name);
      if (name.endsWith('.partial')) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const s = await stat(path);
      this.entries.set(name, { path, size: s.size, lastUsedMs: s.mtimeMs });
      this.usedBytes += s.size;
    }
  }

  private async download(key: string, url: string, sha256: string | undefined): Promise<AssetFile> {
    this.downloads++;
    const target = join(this.options.directory, key);
    const partial = `${target}.${randomBytes(4).toString('hex')}.partial`;
    const hash = createHash('sha256');
    let size = 0;
    try {
      const response = await (this.options.fetchImpl ?? fetch)(url, { signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 10 * 60_000), redirect: 'follow' });
      if (!response.ok || !response.body) throw new AssetError('FetchFailed', `fetching ${url} answered HTTP ${response.status}`);
      const announced = Number(response.headers.get('content-length') ?? 0);
      if (announced > this.options.maxBytes) throw new AssetError('TooLarge', `${url} is ${announced} bytes, more than the asset cache holds (${this.options.maxBytes})`);
      if (announced > 0) await this.makeRoom(announced);
      const maxBytes = this.options.maxBytes;
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            if (size > maxBytes) throw new AssetError('TooLarge', `${url} is larger than the asset cache holds (${maxBytes} bytes)`);
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(partial),
      );
      const digest = hash.digest('hex');
      if (sha256 && digest !== sha256) {
        throw new AssetError('ChecksumMismatch', `${url} has SHA-256 ${digest}, expected ${sha256}; nothing was kept`);
      }
      await this.makeRoom(size);
      await rename(partial, target);
      const entry: Entry = { path: target, size, lastUsedMs: Date.now() };
      this.entries.set(key, entry);
      this.usedBytes += size;
      return entry;
    } catch (err) {
      await unlink(partial).catch(() => undefined);
      if (err instanceof AssetError) throw err;
      throw new AssetError('FetchFailed', `fetching ${url} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /** Evicts least recently used files until `incoming` more bytes fit. Open readers keep their data (unlink semantics). */
  private async makeRoom(incoming: number): Promise<void> {
    if (this.usedBytes + incoming <= this.options.maxBytes) return;
    const oldestFirst = [...this.entries.entries()].sort((a, b) => a[1].lastUsedMs - b[1].lastUsedMs);
    for (const [key, entry] of oldestFirst) {
      if (this.usedBytes + incoming <= this.options.maxBytes) break;
      this.entries.delete(key);
      this.usedBytes -= entry.size;
      await unlink(entry.path).catch(() => undefined);
    }
  }
}

function cacheKey(url: string, sha256: string | undefined): string {
  return createHash('sha256').update(`${url}\n${sha256 ?? ''}`).digest('hex');
}

/**
 * A file under the asset directory. The relative path comes from a BootProfile (already free of
 * "..") and is resolved with symlinks followed, so neither a crafted path nor a symlink can
 * reach outside the directory.
 */
export async function localAsset(directory: string, relative: string): Promise<AssetFile> {
  if (relative.split('/').some((part) => part === '..' || part === '.') || relative.startsWith('/')) {
    throw new AssetError('OutsideAssetDirectory', `asset path ${relative} must stay inside the asset directory`);
  }
  let root: string;
  let resolved: string;
  try {
    root = await realpath(directory);
    resolved = await realpath(join(root, relative));
  } catch (err) {
    throw new AssetError('AssetNotFound', `asset ${relative} does not exist in the asset directory`, { cause: err });
  }
  if (!resolved.startsWith(root + sep)) throw new AssetError('OutsideAssetDirectory', `asset path ${relative} leads outside the asset directory`);
  const s = await stat(resolved);
  if (!s.isFile()) throw new AssetError('AssetNotFound', `asset ${relative} is not a file`);
  return { path: resolved, size: s.size };
}

/** Parses a single-range "bytes=a-b" header; undefined for none, 'invalid' when unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | 'invalid' {
  if (!header) return undefined;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}
