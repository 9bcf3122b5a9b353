import { describe, expect, it } from 'vitest';
import { changedConditions, setCondition } from './conditions.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T01:00:00Z');

describe('setCondition', () => {
  it('keeps lastTransitionTime while the status stays the same, even if reason and message change', () => {
    const a = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, 1, t0);
    const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, 2, t1);
    expect(b[0]).toEqual({ type: 'Ready', status: 'False', reason: 'B', message: 'b', observedGeneration: 2, lastTransitionTime: '2026-01-01T00:00:00Z' });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const a = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, 1, t0);
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'Ok', message: 'ok' }, 1, t1);
    expect(b[0]?.lastTransitionTime).toBe('2026-01-01T01:00:00Z');
  });

  it('adds new types after existing ones and reports what changed', () => {
    const a = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok', message: '' }, 1, t0);
    const b = setCondition(a, { type: 'Connected', status: 'True', reason: 'Reachable', message: '' }, 1, t0);
    expect(b.map((c) => c.type)).toEqual(['Ready', 'Connected']);
    expect(changedConditions(a, b).map((c) => c.type)).toEqual(['Connected']);
    expect(changedConditions(b, b)).toEqual([]);
  });
});
