import { describe, expect, it } from 'vitest';
import { normalizeMac, normalizeUuid } from './identity.js';

describe('machine identity', () => {
  it.each([
    ['52:54:00:ab:cd:ef', '52:54:00:ab:cd:ef'],
    ['52:54:00:AB:CD:EF', '52:54:00:ab:cd:ef'],
    ['52-54-00-ab-cd-ef', '52:54:00:ab:cd:ef'],
    ['525400ABCDEF', '52:54:00:ab:cd:ef'],
  ])('brings the MAC %s to %s', (input, canonical) => {
    expect(normalizeMac(input)).toBe(canonical);
  });

  it.each(['52:54:00:ab:cd:eg', '52:54:00:ab:cd', '52:54:00:ab:cd:ef:', '52:54-00:ab:cd:ef', '52:54:00:ab:cd;ef', ' 52:54:00:ab:cd:e', '5254.00ab.cdef', ''])('refuses %j as a MAC', (input) => {
    expect(normalizeMac(input)).toBeUndefined();
  });

  it('treats the nil UUID as none', () => {
    expect(normalizeUuid('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(normalizeUuid('4C4C4544-0042-3510-8052-B3C04F4E4E31')).toBe('4c4c4544-0042-3510-8052-b3c04f4e4e31');
  });
});
