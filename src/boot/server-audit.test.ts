// The boot server's audit line: one JSON line per request, in pino's format, through the logger
// it is given.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { get, harness, MAC } from './server-harness.test-support.js';

describe('boot server audit line', () => {
  it('is one pino line per request with the request\'s facts, for answers and refusals alike', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk: Buffer | string, _enc, done) { lines.push(chunk.toString()); done(); } });
    const h = await harness({ log: createLogger({ destination: stream }).child({ component: 'boot' }) });
    try {
      expect((await get(h.port, `/ipxe?mac=${MAC}&platform=efi`)).status).toBe(200);
      expect((await get(h.port, '/ipxe?mac=nonsense')).status).toBe(400);
      const audit = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'boot request');
      expect(audit).toHaveLength(2);
      expect(Object.keys(audit[0]!)).toEqual(['level', 'time', 'pid', 'name', 'component', 'route', 'code', 'clientIP', 'ms', 'mac', 'assignment', 'answer', 'msg']);
      expect(audit[0]).toMatchObject({ level: 30, name: 'bootplane', component: 'boot', route: 'machine', code: 200, clientIP: '127.0.0.1', mac: MAC, assignment: 'lab/node-1', answer: 'profile' });
      expect(typeof audit[0]!.ms).toBe('number');
      expect(audit[1]).toMatchObject({ route: 'machine', code: 400, error: 'query parameter mac must be a MAC address such as 52:54:00:12:34:56' });
    } finally {
      await new Promise<void>((r) => h.http.close(() => r()));
    }
  });
});
