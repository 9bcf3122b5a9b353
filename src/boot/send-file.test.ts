import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sendFileRange } from './send-file.js';

const content = randomBytes(1_300_000 + 17); // several chunks and a partial last one
const path = join(mkdtempSync(join(tmpdir(), 'send-file-')), 'asset.bin');
writeFileSync(path, content);
// Larger than what loopback socket buffers hold, so an early close is seen before the end.
const bigPath = join(mkdtempSync(join(tmpdir(), 'send-file-')), 'big.bin');
writeFileSync(bigPath, Buffer.alloc(32 << 20, 7));

let server: Server;
let port: number;
const results: (number | string)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const [start, end] = (req.url ?? '').slice(1).split('-').map(Number) as [number, number];
    res.setHeader('Content-Length', end - start + 1);
    sendFileRange(res, req.headers['x-path'] as string | undefined ?? path, start, end).then((sent) => results.push(sent), (err: Error) => {
      results.push(err.message);
      res.destroy(err);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function download(range: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: `/${range}`, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('sendFileRange', () => {
  it('sends the whole file and any range of it, byte for byte, across chunk boundaries', async () => {
    expect((await download(`0-${content.length - 1}`)).equals(content)).toBe(true);
    expect((await download('524287-1048577')).equals(content.subarray(524287, 1048578))).toBe(true);
    expect((await download('5-5')).equals(content.subarray(5, 6))).toBe(true);
    // The client can see the last byte before the server's promise settles: wait for the third.
    await vi.waitFor(() => expect(results.slice(-3)).toEqual([content.length, 1048578 - 524287, 1]));
  });

  it('stops reading when the client goes away', async () => {
    await new Promise<void>((resolve) => {
      const req = get({ host: '127.0.0.1', port, path: `/0-${(32 << 20) - 1}`, headers: { 'x-path': bigPath }, agent: false }, (res) => {
        res.once('data', () => { req.destroy(); resolve(); });
      });
      req.on('error', () => undefined);
    });
    await new Promise((r) => setTimeout(r, 200));
    const sent = results.at(-1) as number;
    expect(sent).toBeLessThan(32 << 20);
  });
});
