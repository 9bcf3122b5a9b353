import { describe, expect, it } from 'vitest';
import { StringPool } from './string-pool.js';

describe('StringPool', () => {
  it('gives equal values from separate parses one copy, everywhere in the object', () => {
    const pool = new StringPool();
    const text = '{"status":{"conditions":[{"type":"Ready","message":"ok"}],"tags":["a","b"]}}';
    const a = pool.internAll(JSON.parse(text) as { status: { conditions: { type: string; message: string }[]; tags: string[] } });
    const b = pool.internAll(JSON.parse(text) as typeof a);
    expect(b).toEqual(a);
    expect(pool.size).toBe(4); // Ready, ok, a, b
    expect(pool.intern('Ready')).toBe(a.status.conditions[0]!.type);
  });

  it('leaves long values alone and starts afresh when full', () => {
    const pool = new StringPool();
    pool.intern('x'.repeat(300));
    expect(pool.size).toBe(0);
    for (let i = 0; i < 50_001; i++) pool.intern(`s${i}`);
    expect(pool.size).toBe(1);
  });
});
