import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('the default log destination', () => {
  it('writes every line, in order, batched per event-loop turn, and flushes on demand', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'log-dest-')), 'out.log');
    const log = createLogger({ level: 'info', file });
    for (let i = 0; i < 500; i++) log.info({ i }, 'line');
    await new Promise((r) => setImmediate(r));
    log.info({ i: 500 }, 'last');
    log.flush();
    await new Promise((r) => setTimeout(r, 50));
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { i: number; msg: string; time: string });
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 501 }, (_, i) => i));
    expect(lines[500]!.msg).toBe('last');
    expect(lines[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
