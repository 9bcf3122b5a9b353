import { describe, expect, it } from 'vitest';
import { lineDiff } from './diff.js';

describe('lineDiff', () => {
  it('marks kept, removed and added lines', () => {
    expect(lineDiff('a\nb\nc\n', 'a\nx\nc\n')).toBe('  a\n- b\n+ x\n  c\n');
  });
  it('shows a new object as all additions and a deleted one as all removals', () => {
    expect(lineDiff('', 'a\nb\n')).toBe('+ a\n+ b\n');
    expect(lineDiff('a\n', '')).toBe('- a\n');
  });
  it('is empty for two empty texts', () => {
    expect(lineDiff('', '')).toBe('');
  });
});
