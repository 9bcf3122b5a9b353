import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { InfoLineWriter, jsonString } from './json-line.js';
import { createLogger } from './logger.js';

/** A destination that keeps every line written to it. */
function capture(): { lines: string[]; stream: NodeJS.WritableStream } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer | string, _enc, done) { lines.push(chunk.toString()); done(); } });
  return { lines, stream };
}

function fieldsJson(fields: Record<string, string | number | undefined>): string {
  let out = '';
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out += `,${jsonString(k)}:${typeof v === 'number' ? String(v) : jsonString(v)}`;
  return out;
}

const awkward = ['plain', 'with "quotes"', 'back\\slash', 'new\nline\ttab\u0001', 'é ü 日本 🚀', '', '</script>'];

describe('hand-built info lines', () => {
  it('escape strings exactly as JSON.stringify does', () => {
    for (const s of [...awkward, '\ud800 lone', '\u001f\u007f']) expect(jsonString(s)).toBe(JSON.stringify(s));
  });

  it('equal what pino writes for the same fields through the production logger and its children', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ destination: stream }).child({ component: 'boot' }).child({}, { redact: [] });
    const writer = new InfoLineWriter(logger, ['route', 'code', 'clientIP', 'ms', 'mac', 'error']);
    const info = vi.spyOn(logger, 'info');
    for (const text of awkward) {
      const fields = { route: 'machine', code: 200, clientIP: '::ffff:127.0.0.1', ms: 0.3, mac: text, error: text === '' ? undefined : `bad ${text}` };
      for (let attempt = 0; ; attempt++) {
        lines.length = 0;
        info.mockClear();
        writer.write(fieldsJson(fields), () => fields, 'boot request');
        logger.info(fields, 'boot request');
        const [ours, theirs] = lines;
        const time = (l: string) => (JSON.parse(l) as { time: string }).time;
        // The two lines straddled a millisecond: try again.
        if (time(ours!) !== time(theirs!) && attempt < 5) continue;
        expect(ours).toBe(theirs);
        // The line was built by hand, not handed to pino.
        expect(info).toHaveBeenCalledTimes(1);
        expect(JSON.parse(ours!)).toMatchObject({ level: 30, component: 'boot', name: 'bootplane', msg: 'boot request', mac: text });
        break;
      }
    }
  });

  it('let pino format the line when the logger does something the direct path does not reproduce', () => {
    const { lines, stream } = capture();
    const logger = pino({ mixin: () => ({ extra: 1 }), timestamp: false }, stream);
    const writer = new InfoLineWriter(logger, ['route']);
    writer.write(',"route":"machine"', () => ({ route: 'machine' }), 'boot request');
    expect(JSON.parse(lines[0]!)).toMatchObject({ route: 'machine', extra: 1, msg: 'boot request' });
  });

  it('report whether info lines are on, following level changes', () => {
    const logger = createLogger({ destination: capture().stream, level: 'warn' });
    const writer = new InfoLineWriter(logger, []);
    expect(writer.enabled).toBe(false);
    logger.level = 'info';
    expect(writer.enabled).toBe(true);
  });
});
