import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyImage, type CopyProgress } from './copy.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'copy-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

describe('copyImage', () => {
  it('copies content exactly, keeps zero regions sparse and reports progress to the end', async () => {
    const source = join(dir, 'golden.img');
    const data = Buffer.alloc(5 * 1024 * 1024);
    data.write('boot sector', 0);
    data.write('tail', data.length - 4);
    await writeFile(source, data);
    const seen: CopyProgress[] = [];
    const done = await copyImage(source, join(dir, 'copy.img'), (p) => seen.push({ ...p }));
    expect(await readFile(join(dir, 'copy.img'))).toEqual(data);
    expect(done).toMatchObject({ bytesCopied: data.length, totalBytes: data.length });
    expect(seen.at(-1)!.bytesCopied).toBe(data.length);
    if (done.method === 'sparse') {
      expect(seen.length).toBeGreaterThan(2);
      // Three all-zero MiB chunks were skipped: fewer blocks than the size.
      expect((await stat(join(dir, 'copy.img'))).blocks * 512).toBeLessThan(data.length);
    }
    await expect(stat(join(dir, 'copy.img.partial'))).rejects.toThrow();
  });

  it('refuses a missing source without leaving a partial copy', async () => {
    await expect(copyImage(join(dir, 'nope.img'), join(dir, 'copy.img'), () => undefined)).rejects.toThrow(/ENOENT/);
    await expect(stat(join(dir, 'copy.img.partial'))).rejects.toThrow();
  });
});
