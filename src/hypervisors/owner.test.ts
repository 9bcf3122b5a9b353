import { describe, expect, it } from 'vitest';
import { ownerDescription, ownerOf } from './owner.js';

describe('owner marker', () => {
  it('reads back the uid it wrote', () => {
    expect(ownerOf(ownerDescription('ns', 'web', '1b4e28ba-2fa1-11d2-883f-0016d3cca427'))).toBe('1b4e28ba-2fa1-11d2-883f-0016d3cca427');
  });
  it('finds nothing in a description a person wrote', () => {
    expect(ownerOf('database server, do not touch')).toBeUndefined();
    expect(ownerOf(undefined)).toBeUndefined();
    expect(ownerOf('mentions bootplane-owner=abc in the middle of a line')).toBeUndefined();
  });
  it('survives CRLF line ends (PVE descriptions edited in the web UI)', () => {
    expect(ownerOf('Created by bootplane.\r\nbootplane-owner=abc-123')).toBe('abc-123');
  });
});
