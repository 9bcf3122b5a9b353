import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageSource } from './source.js';

let dir: string;
let server: Server;
let base: string;
let requests = 0;
const body = Buffer.from('a golden image\n'.repeat(1000));
const sha = createHash('sha256').update(body).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'source-'));
  server = createServer((req, res) => {
    requests++;
    if (req.url?.split('?')[0] === '/golden.img') res.end(body);
    else { res.statusCode = 404; res.end(); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ImageSource', () => {
  it('downloads a URL once, verified, for concurrent sessions', async () => {
    const images = new ImageSource(join(dir, 'cache'));
    const [a, b] = await Promise.all([images.prepare({ url: `${base}/golden.img`, sha256: sha }), images.prepare({ url: `${base}/golden.img`, sha256: sha })]);
    expect(a).toEqual(b);
    expect(a.size).toBe(body.length);
    await images.prepare({ url: `${base}/golden.img`, sha256: sha });
    expect(requests).toBe(1);
  });

  it('discards a download that fails its checksum', async () => {
    const images = new ImageSource(join(dir, 'cache2'));
    await expect(images.prepare({ url: `${base}/golden.img?token=secret`, sha256: '0'.repeat(64) })).rejects.toMatchObject({ code: 'ImageChecksumMismatch' });
    await expect(images.prepare({ url: `${base}/golden.img?token=secret`, sha256: '0'.repeat(64) })).rejects.not.toThrow(/secret/);
    expect(await readdir(join(dir, 'cache2'))).toEqual([]);
  });

  it('names a missing path or URL', async () => {
    const images = new ImageSource(join(dir, 'cache3'));
    await expect(images.prepare({ path: join(dir, 'missing.img') })).rejects.toMatchObject({ code: 'ImageNotFound' });
    await expect(images.prepare({ url: `${base}/missing.img`, sha256: sha })).rejects.toMatchObject({ code: 'ImageNotFound' });
  });

  it('checks a path against its sha256', async () => {
    const images = new ImageSource(join(dir, 'cache4'));
    await writeFile(join(dir, 'local.img'), body);
    await expect(images.prepare({ path: join(dir, 'local.img'), sha256: sha })).resolves.toMatchObject({ size: body.length });
    await expect(images.prepare({ path: join(dir, 'local.img'), sha256: 'f'.repeat(64) })).rejects.toMatchObject({ code: 'ImageChecksumMismatch' });
  });
});
