// metav1.Condition bookkeeping. lastTransitionTime changes only when a condition's status flips,
// so an unchanged observation produces an identical status and no write.
import { metaTime } from './time.js';
import type { Condition } from '../api/v1alpha1/common.js';

export type ConditionStatus = Condition['status'];

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export function setCondition(conditions: readonly Condition[] | undefined, update: ConditionUpdate, generation: number | undefined, now: Date = new Date()): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === update.type);
  const previous = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: update.type,
    status: update.status,
    observedGeneration: generation,
    lastTransitionTime: previous && previous.status === update.status ? previous.lastTransitionTime : metaTime(now),
    reason: update.reason,
    message: update.message,
  };
  if (next.observedGeneration === undefined) delete next.observedGeneration;
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/** Conditions whose status or reason changed between two lists, for Events on transitions. */
export function changedConditions(before: readonly Condition[] | undefined, after: readonly Condition[]): Condition[] {
  return after.filter((c) => {
    const old = findCondition(before, c.type);
    return !old || old.status !== c.status || old.reason !== c.reason;
  });
}
