// A session's own disk from a golden image: a reflink where the filesystem shares extents
// (btrfs, XFS: instant, no space used until written), else a sparse copy that skips zero
// blocks and reports progress. The copy is written beside its final name and renamed when
// complete, so a half-made copy is never served.
import { execFile } from 'node:child_process';
import { open, rename, rm, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ImageError, isNoSpace } from './errors.js';

export type CopyMethod = 'reflink' | 'sparse';

export interface CopyProgress {
  method: CopyMethod;
  bytesCopied: number;
  totalBytes: number;
}

const CHUNK = 1 << 20;

export async function copyImage(source: string, dest: string, onProgress: (p: CopyProgress) => void, signal?: AbortSignal): Promise<CopyProgress> {
  const partial = `${dest}.partial`;
  const info = await stat(source);
  await rm(partial, { force: true });
  if (await reflink(source, partial)) {
    await rename(partial, dest);
    const done: CopyProgress = { method: 'reflink', bytesCopied: info.size, totalBytes: info.size };
    onProgress(done);
    return done;
  }
  // A sparse copy needs as much as the source holds in blocks; refuse before filling the disk.
  const fs = await statfs(dirname(dest));
  const needed = Math.min(info.size, info.blocks * 512);
  if (fs.bavail * fs.bsize < needed) {
    throw new ImageError('DiskFull', `${dirname(dest)} has ${fs.bavail * fs.bsize} bytes free; the copy needs ${needed}; free space or set spec.target.copyDirectory`);
  }
  const progress: CopyProgress = { method: 'sparse', bytesCopied: 0, totalBytes: info.size };
  onProgress(progress);
  const input = await open(source, 'r');
  const output = await open(partial, 'w');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let offset = 0; offset < info.size; offset += CHUNK) {
      signal?.throwIfAborted();
      const { bytesRead } = await input.read(buffer, 0, CHUNK, offset);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      if (!isZero(chunk)) await output.write(chunk, 0, bytesRead, offset);
      progress.bytesCopied = offset + bytesRead;
      onProgress(progress);
    }
    await output.truncate(info.size);
    await output.sync();
  } catch (err) {
    await output.close().catch(() => undefined);
    await rm(partial, { force: true });
    if (isNoSpace(err)) throw new ImageError('DiskFull', `${dirname(dest)} ran out of space while copying the image; the partial copy was removed`, { cause: err });
    if (signal?.aborted) throw err;
    throw new ImageError('ImageCopyFailed', `copying ${source} to ${dest} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await input.close();
  }
  await output.close();
  await rename(partial, dest);
  return progress;
}

/** FICLONE through cp: no Node API exposes it, and cp refuses instead of copying when it can't. */
function reflink(source: string, dest: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('cp', ['--reflink=always', '--', source, dest], (err) => {
      if (err) void rm(dest, { force: true }).then(() => resolve(false));
      else resolve(true);
    });
  });
}

const ZERO = Buffer.alloc(CHUNK);

function isZero(chunk: Buffer): boolean {
  return ZERO.subarray(0, chunk.length).equals(chunk);
}
