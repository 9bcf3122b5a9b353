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

  it('gives equal flat records in lists one shared, frozen copy and leaves the rest alone', () => {
    const pool = new StringPool();
    const condition = (message: string) => ({ lastTransitionTime: '2026-12-07T14:50:57Z', message, reason: 'Connected', status: 'True', type: 'HypervisorReady' });
    const vm = (name: string) => ({ metadata: { name }, status: { conditions: [condition('configured'), condition(`managing ${name}`)], devices: [{ kind: 'disk', slot: 'scsi0', size: { bytes: 1 } }] } });
    const a = pool.internAll(JSON.parse(JSON.stringify(vm('a'))) as ReturnType<typeof vm>);
    const b = pool.internAll(JSON.parse(JSON.stringify(vm('b'))) as ReturnType<typeof vm>);
    expect(b.status.conditions[0]).toBe(a.status.conditions[0]);
    expect(Object.isFrozen(a.status.conditions[0])).toBe(true);
    expect(() => { (a.status.conditions[0] as { message: string }).message = 'changed'; }).toThrow(TypeError);
    expect(b.status.conditions[1]).not.toBe(a.status.conditions[1]);
    expect(b.status.conditions[1]!.message).toBe('managing b');
    // A record holding an object is not flat: neither shared nor frozen.
    expect(b.status.devices[0]).not.toBe(a.status.devices[0]);
    expect(Object.isFrozen(b.status.devices[0])).toBe(false);
    expect(b).toEqual(vm('b'));
  });

  it('does not take a record with fewer or other keys for an equal one', () => {
    const pool = new StringPool();
    const [full] = pool.internAll([{ kind: 'cdrom', slot: 'ide2', volume: 'local:iso/a.iso' }]);
    const [empty] = pool.internAll([{ kind: 'cdrom', slot: 'ide2' }]);
    const [other] = pool.internAll([{ kind: 'cdrom', slot: 'ide2', path: 'local:iso/a.iso' }]);
    expect(empty).toEqual({ kind: 'cdrom', slot: 'ide2' });
    expect(other).toEqual({ kind: 'cdrom', slot: 'ide2', path: 'local:iso/a.iso' });
    expect(full).toEqual({ kind: 'cdrom', slot: 'ide2', volume: 'local:iso/a.iso' });
  });
});
