import { describe, expect, it } from 'vitest';
import { XdrError, XdrReader, XdrWriter } from './xdr.js';
import { readDomain, readRemoteError, writeDomain, writeRemoteError } from './types.js';

describe('XDR', () => {
  it('encodes ints, hypers and strings big-endian with 4-byte padding', () => {
    const bytes = new XdrWriter().int(-2).uint(0xfffffffe).uhyper(2n ** 40n).string('abcde').bytes();
    expect(bytes.toString('hex')).toBe(
      'fffffffe' + 'fffffffe' + '0000010000000000' + '00000005' + '6162636465000000',
    );
    const r = new XdrReader(bytes);
    expect([r.int(), r.uint(), r.uhyperNumber(), r.string()]).toEqual([-2, 0xfffffffe, 2 ** 40, 'abcde']);
    r.end();
  });

  it('pads strings of every length to a multiple of four', () => {
    for (const s of ['', 'a', 'ab', 'abc', 'abcd', 'ünï']) {
      const bytes = new XdrWriter().string(s).bytes();
      expect(bytes.length % 4).toBe(0);
      expect(new XdrReader(bytes).string()).toBe(s);
    }
  });

  it('encodes optional values as a presence word', () => {
    const bytes = new XdrWriter().optional('x', (w, v) => w.string(v)).optional(undefined, (w, v: string) => w.string(v)).bytes();
    expect(bytes.toString('hex')).toBe('00000001' + '00000001' + '78000000' + '00000000');
    const r = new XdrReader(bytes);
    expect(r.optional((x) => x.string())).toBe('x');
    expect(r.optional((x) => x.string())).toBeUndefined();
  });

  it('round-trips a domain (name, 16-byte UUID without length, id)', () => {
    const dom = { name: 'web', uuid: '30fadff0-fd79-4d57-adb2-3532a3d35058', id: -1 };
    const w = new XdrWriter();
    writeDomain(w, dom);
    expect(w.bytes().length).toBe(4 + 4 + 16 + 4);
    expect(readDomain(new XdrReader(w.bytes()))).toEqual(dom);
  });

  it('reads a remote_error with its optional fields', () => {
    const w = new XdrWriter();
    writeRemoteError(w, { code: 42, domain: 10, message: "Domain not found: no domain with matching name 'x'", level: 2 });
    const r = new XdrReader(w.bytes());
    expect(readRemoteError(r)).toEqual({ code: 42, domain: 10, message: "Domain not found: no domain with matching name 'x'", level: 2 });
    r.end();
  });

  it('refuses truncated input, oversized arrays and out-of-range values', () => {
    expect(() => new XdrReader(Buffer.from('000000', 'hex')).int()).toThrow(XdrError);
    expect(() => new XdrReader(Buffer.from('0000000a61', 'hex')).string()).toThrow(/truncated/);
    expect(() => new XdrReader(Buffer.from('00000009', 'hex')).array((r) => r.int(), 8)).toThrow(/exceeds its bound/);
    expect(() => new XdrReader(Buffer.from('00000002', 'hex')).bool()).toThrow(/boolean/);
    expect(() => new XdrWriter().int(2 ** 31)).toThrow(XdrError);
    expect(() => new XdrReader(new XdrWriter().uhyper(2n ** 60n).bytes()).uhyperNumber()).toThrow(/2\^53/);
    const r = new XdrReader(new XdrWriter().int(1).int(2).bytes());
    r.int();
    expect(() => r.end()).toThrow(/unread/);
  });
});
