// The TFTP first hop against real clients: curl's TFTP (asks for blksize and tsize, so it gets
// an OACK) and tftp-hpa (plain RFC 1350, 512-byte blocks), both fetching Debian's iPXE binaries
// byte for byte, plus the chain script and refusals.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChainScript } from '../src/boot/scripts.js';
import { TftpServer } from '../src/boot/tftp.js';
import { silentLogger } from '../src/observability/logger.js';

const IPXE_DIR = '/usr/lib/ipxe';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function run(cmd: string, args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe('TFTP server with real clients', () => {
  let server: TftpServer;
  let port: number;
  const chain = buildChainScript('http://192.0.2.1:8082');
  beforeAll(async () => {
    server = new TftpServer({ directory: IPXE_DIR, chainScript: chain, log: silentLogger() });
    port = await server.listen(0, '127.0.0.1');
  });
  afterAll(() => server.close());

  it.each(['undionly.kpxe', 'ipxe.efi', 'snponly.efi'])('curl fetches %s with blksize and tsize negotiated', async (file) => {
    const out = join(mkdtempSync(join(tmpdir(), 'tftp-')), file);
    const r = await run('curl', ['-sS', '--tftp-blksize', '1432', '-o', out, `tftp://127.0.0.1:${port}/${file}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(sha(readFileSync(out))).toBe(sha(readFileSync(join(IPXE_DIR, file))));
  });

  it('tftp-hpa fetches a binary in plain 512-byte blocks, and the chain script', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tftp-'));
    const r = await run('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', 'undionly.kpxe'], dir);
    expect(r.code).toBe(0);
    expect(sha(readFileSync(join(dir, 'undionly.kpxe')))).toBe(sha(readFileSync(join(IPXE_DIR, 'undionly.kpxe'))));
    await run('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', 'boot.ipxe'], dir);
    expect(readFileSync(join(dir, 'boot.ipxe'), 'utf8')).toBe(chain);
  });

  it('refuses other files, traversal and writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tftp-'));
    for (const name of ['../../etc/passwd', 'ipxe.iso', 'qemu/pxe-e1000.rom']) {
      // curl 7.88 reports an error packet as the first answer only as a getpeername failure, so tftp-hpa shows the message.
      const r = await run('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', name, 'x'], dir);
      expect(`${r.stdout}${r.stderr}`).toMatch(/Error code 1: no file/);
    }
    const put = await run('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'put', '/etc/hostname', 'x'], dir);
    expect(`${put.stdout}${put.stderr}`).toMatch(/read-only/);
  });
});
