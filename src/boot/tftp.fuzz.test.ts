// Hostile datagrams against the TFTP server on a real socket: random bytes, truncated and
// oversized requests, traversal, write requests. The server stays up and still serves files.
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logger.js';
import { parseRequest, TftpServer } from './tftp.js';

// A fixed seed keeps CI repeatable; set FUZZ_SEED to explore other cases locally.
const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261122);

const rrq = (name: string) => Buffer.from(`\u0000\u0001${name}\u0000octet\u0000`, 'latin1');
const packet = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
  fc.tuple(fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 255), fc.string({ maxLength: 300 })).map(([op, s]) => Buffer.concat([Buffer.from([0, op]), Buffer.from(s, 'latin1')])),
  fc.constantFrom('../../etc/shadow', '/etc/passwd', 'a/../../b', '', 'x'.repeat(1000), 'undionly.kpxe\u0000netascii').map(rrq),
);

describe('TFTP server under hostile datagrams', () => {
  let server: TftpServer;
  let port: number;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tftp-fuzz-'));
    writeFileSync(join(dir, 'undionly.kpxe'), Buffer.alloc(3000, 7));
    server = new TftpServer({ directory: dir, log: silentLogger() });
    port = await server.listen(0, '127.0.0.1');
  });
  afterAll(() => server.close());

  it('parses any datagram to a request or a reason, never throwing', () => {
    fc.assert(fc.property(packet, (p) => {
      const r = parseRequest(p);
      expect(typeof r === 'string' || typeof r === 'object').toBe(true);
    }), { numRuns: 2000, seed: FUZZ_SEED });
  });

  it('survives a flood of random datagrams and then serves a file', async () => {
    const sock = createSocket('udp4');
    const samples = fc.sample(packet, { numRuns: 500, seed: FUZZ_SEED });
    for (const p of samples) sock.send(p, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 300));
    // A plain read request still gets the first data block.
    const first = await new Promise<Buffer>((resolve, reject) => {
      const client = createSocket('udp4');
      const timer = setTimeout(() => { client.close(); reject(new Error('no answer')); }, 3000);
      client.on('message', (msg) => { clearTimeout(timer); client.close(); resolve(msg); });
      client.send(rrq('undionly.kpxe'), port, '127.0.0.1');
    });
    sock.close();
    expect(first.readUInt16BE(0)).toBe(3); // DATA
    expect(first.readUInt16BE(2)).toBe(1); // block 1
    expect(first.length).toBe(4 + 512);
  });
});
