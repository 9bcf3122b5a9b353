import { describe, expect, it } from 'vitest';
import { negotiate, parseRequest } from './tftp.js';

describe('TFTP request parsing and option negotiation', () => {
  it('reads a read request with options as PXE ROMs send it', () => {
    const packet = Buffer.from('\u0000\u0001undionly.kpxe\u0000octet\u0000blksize\u00001432\u0000tsize\u00000\u0000', 'latin1');
    const r = parseRequest(packet);
    expect(r).toMatchObject({ opcode: 1, filename: 'undionly.kpxe', mode: 'octet' });
    expect(typeof r !== 'string' && Object.fromEntries(r.options)).toEqual({ blksize: '1432', tsize: '0' });
    expect(parseRequest(Buffer.from('\u0000\u0001x', 'latin1'))).toBeTypeOf('string');
  });

  it('answers blksize, tsize and timeout, lowering a blksize larger than one frame', () => {
    const n = negotiate(new Map([['blksize', '65464'], ['tsize', '0'], ['timeout', '3']]), 74213);
    expect(n.blksize).toBe(1468);
    expect(Object.fromEntries(n.oack)).toEqual({ blksize: '1468', tsize: '74213', timeout: '3' });
    const refused = negotiate(new Map([['blksize', '4'], ['timeout', '900']]), 10);
    expect(refused.oack.size).toBe(0);
    expect(refused.blksize).toBe(512);
  });
});
