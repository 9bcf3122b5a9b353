import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AssetCache, localAsset, parseRange } from './assets.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function fakeUpstream(files: Record<string, Buffer>, delayMs = 20): { fetchImpl: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  const fetchImpl = (async (input: string | URL | Request) => {
    const url = String(input);
    calls.push(url);
    await new Promise((r) => setTimeout(r, delayMs));
    const body = files[url];
    if (!body) return new Response('no', { status: 404 });
    return new Response(new Uint8Array(body), { headers: { 'content-length': String(body.length) } });
  }) as typeof fetch;
  return { fetchImpl, calls };
}

describe('AssetCache', () => {
  it('downloads a file once for concurrent requests and verifies its checksum', async () => {
    const body = Buffer.from('kernel bytes '.repeat(1000));
    const up = fakeUpstream({ 'http://up/vmlinuz': body });
    const cache = new AssetCache({ directory: mkdtempSync(join(tmpdir(), 'assets-')), maxBytes: 1 << 20, fetchImpl: up.fetchImpl });
    const files = await Promise.all(Array.from({ length: 10 }, () => cache.get('http://up/vmlinuz', sha(body))));
    expect(up.calls).toHaveLength(1);
    expect(new Set(files.map((f) => f.path)).size).toBe(1);
    expect(readFileSync(files[0]!.path).equals(body)).toBe(true);
    await cache.get('http://up/vmlinuz', sha(body));
    expect(up.calls).toHaveLength(1);
  });

  it('keeps nothing when the checksum does not match', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assets-'));
    const up = fakeUpstream({ 'http://up/initrd': Buffer.from('tampered') });
    const cache = new AssetCache({ directory: dir, maxBytes: 1 << 20, fetchImpl: up.fetchImpl });
    await expect(cache.get('http://up/initrd', 'a'.repeat(64))).rejects.toMatchObject({ code: 'ChecksumMismatch' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('evicts the least recently used file to stay within its bound', async () => {
    const a = Buffer.alloc(600, 1);
    const b = Buffer.alloc(600, 2);
    const up = fakeUpstream({ 'http://up/a': a, 'http://up/b': b }, 1);
    const cache = new AssetCache({ directory: mkdtempSync(join(tmpdir(), 'assets-')), maxBytes: 1000, fetchImpl: up.fetchImpl });
    const first = await cache.get('http://up/a');
    await cache.get('http://up/b');
    expect(cache.bytes).toBeLessThanOrEqual(1000);
    expect(existsSync(first.path)).toBe(false);
    await expect(cache.get('http://up/missing')).rejects.toMatchObject({ code: 'FetchFailed' });
  });
});

describe('localAsset', () => {
  it('serves files inside the directory and nothing outside it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'assetdir-'));
    mkdirSync(join(root, 'rescue'));
    writeFileSync(join(root, 'rescue', 'vmlinuz'), 'k');
    const outside = mkdtempSync(join(tmpdir(), 'secret-'));
    writeFileSync(join(outside, 'shadow'), 's');
    symlinkSync(join(outside, 'shadow'), join(root, 'rescue', 'link'));
    expect((await localAsset(root, 'rescue/vmlinuz')).size).toBe(1);
    await expect(localAsset(root, '../etc/passwd')).rejects.toMatchObject({ code: 'OutsideAssetDirectory' });
    await expect(localAsset(root, '/etc/passwd')).rejects.toMatchObject({ code: 'OutsideAssetDirectory' });
    await expect(localAsset(root, 'rescue/link')).rejects.toMatchObject({ code: 'OutsideAssetDirectory' });
    await expect(localAsset(root, 'rescue/none')).rejects.toMatchObject({ code: 'AssetNotFound' });
  });
});

describe('parseRange', () => {
  it('reads single ranges and refuses unsatisfiable ones', () => {
    expect(parseRange(undefined, 100)).toBeUndefined();
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=95-200', 100)).toEqual({ start: 95, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('invalid');
    expect(parseRange('bytes=0-1,5-6', 100)).toBe('invalid');
    expect(parseRange('items=0-1', 100)).toBe('invalid');
  });
});
