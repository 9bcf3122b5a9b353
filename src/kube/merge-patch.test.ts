import { describe, expect, it } from 'vitest';
import { deepEqual, mergePatch } from './merge-patch.js';

describe('mergePatch', () => {
  it('is undefined when nothing changed, whatever the key order', () => {
    expect(mergePatch({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBeUndefined();
  });

  it('carries only changed keys, nulls removed ones and replaces arrays whole', () => {
    expect(mergePatch({ a: 1, b: 2, l: [1, 2], o: { x: 1, y: 2 } }, { a: 1, l: [1], o: { x: 1, y: 3 } }))
      .toEqual({ b: null, l: [1], o: { y: 3 } });
  });

  it('treats undefined properties as absent', () => {
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(mergePatch({ a: 1 }, { a: 1, b: undefined })).toBeUndefined();
  });
});
