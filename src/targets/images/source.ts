// The golden image of a session, made readable on the target host: a path is used where it is
// (checked once per size and mtime when a sha256 is given); a URL is downloaded once into the
// cache under its sha256, verified while it streams, and only then renamed into place, so a
// file in the cache is always a verified one. Concurrent sessions on one URL share a download.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageError, isNoSpace } from './errors.js';

export interface ImageSpec {
  path?: string;
  url?: string;
  sha256?: string;
}

export interface ReadyImage {
  path: string;
  size: number;
}

export class ImageSource {
  private readonly downloads = new Map<string, Promise<ReadyImage>>();
  private readonly verified = new Map<string, string>();

  constructor(private readonly cacheDir: string) {}

  /** Resolves once the image is readable and verified; rejects with ImageError. */
  prepare(image: ImageSpec): Promise<ReadyImage> {
    if (image.url) {
      const sha = image.sha256!.toLowerCase();
      let running = this.downloads.get(sha);
      if (!running) {
        running = this.download(image.url, sha).finally(() => this.downloads.delete(sha));
        this.downloads.set(sha, running);
      }
      return running;
    }
    return this.local(image.path!, image.sha256?.toLowerCase());
  }

  private async local(path: string, sha256: string | undefined): Promise<ReadyImage> {
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      throw new ImageError('ImageNotFound', `the image ${path} does not exist on the target host (${err.code ?? err.message})`, { cause: err });
    });
    if (!info.isFile()) throw new ImageError('ImageNotFound', `the image ${path} is not a regular file`);
    if (sha256) {
      const stamp = `${info.size}:${info.mtimeMs}`;
      if (this.verified.get(path) !== `${stamp}:${sha256}`) {
        const actual = await hashFile(path);
        if (actual !== sha256) throw new ImageError('ImageChecksumMismatch', `the image ${path} has sha256 ${actual}, not the ${sha256} spec.image.sha256 asks for`);
        this.verified.set(path, `${stamp}:${sha256}`);
      }
    }
    return { path, size: info.size };
  }

  private async download(url: string, sha256: string): Promise<ReadyImage> {
    const final = join(this.cacheDir, `${sha256}.img`);
    const cached = await stat(final).catch(() => undefined);
    if (cached?.isFile()) return { path: final, size: cached.size };
    await mkdir(this.cacheDir, { recursive: true });
    const partial = `${final}.partial`;
    let response: Response;
    try {
      response = await fetch(url, { redirect: 'follow' });
    } catch (err) {
      throw new ImageError('ImageDownloadFailed', `downloading ${redact(url)} failed: ${(err as Error).message}`, { cause: err });
    }
    if (!response.ok || !response.body) {
      throw new ImageError(response.status === 404 ? 'ImageNotFound' : 'ImageDownloadFailed', `downloading ${redact(url)} answered HTTP ${response.status}`);
    }
    const hash = createHash('sha256');
    const hashing = new Transform({ transform(chunk: Buffer, _enc, done) { hash.update(chunk); done(null, chunk); } });
    try {
      await pipeline(response.body as unknown as NodeJS.ReadableStream, hashing, createWriteStream(partial));
    } catch (err) {
      await rm(partial, { force: true });
      if (isNoSpace(err)) throw new ImageError('DiskFull', `the image cache ${this.cacheDir} is full; free space or move --diskless-cache-dir`, { cause: err });
      throw new ImageError('ImageDownloadFailed', `downloading ${redact(url)} failed: ${(err as Error).message}`, { cause: err });
    }
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      await rm(partial, { force: true });
      throw new ImageError('ImageChecksumMismatch', `${redact(url)} has sha256 ${actual}, not the ${sha256} spec.image.sha256 asks for; the download was discarded`);
    }
    await rename(partial, final);
    return { path: final, size: (await stat(final)).size };
  }
}

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A URL without its query string or credentials, for messages (a presigned URL is a secret). */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'the image URL';
  }
}
