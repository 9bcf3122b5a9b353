import { describe, expect, it } from 'vitest';
import { encodePacket, FramingError, PacketFramer } from './packet.js';

const header = { program: 0x20008086, version: 1, procedure: 23, type: 1, serial: 7, status: 0 };

describe('packet framing', () => {
  it('writes the length word including itself and the 24-byte header', () => {
    const bytes = encodePacket(header, Buffer.from('abcd'));
    expect(bytes.readUInt32BE(0)).toBe(32);
    expect(bytes.subarray(4, 28).toString('hex')).toBe('20008086' + '00000001' + '00000017' + '00000001' + '00000007' + '00000000');
  });

  it('reassembles packets split and joined arbitrarily by the transport', () => {
    const a = encodePacket(header, Buffer.from('first payload'));
    const b = encodePacket({ ...header, serial: 8, status: 1 }, Buffer.alloc(0));
    const c = encodePacket({ ...header, serial: 9 }, Buffer.alloc(100_000, 7));
    const all = Buffer.concat([a, b, c]);
    for (const step of [1, 3, 29, 4096, all.length]) {
      const framer = new PacketFramer();
      const got = [];
      for (let off = 0; off < all.length; off += step) got.push(...framer.push(all.subarray(off, off + step)));
      expect(got.map((p) => p.header.serial)).toEqual([7, 8, 9]);
      expect(got[0]!.payload.toString()).toBe('first payload');
      expect(got[1]!.header.status).toBe(1);
      expect(got[2]!.payload.length).toBe(100_000);
    }
  });

  it('rejects a length word shorter than a header', () => {
    expect(() => new PacketFramer().push(Buffer.from('00000008', 'hex'))).toThrow(FramingError);
  });
});
