// Two ways a change can fail that call for neither a rollback nor an immediate retry:
// - the hypervisor refused it because the VM is locked (a backup, snapshot or migration holds
//   it): nothing of that write was applied, and the lock goes when the other job ends;
// - the hypervisor never answered (the call timed out): the write may or may not have been
//   applied, so undoing it could undo nothing or undo half, and sending it again blindly could
//   apply it twice.
// Both are reported and tried again later, backing off while they last. The next pass reads the
// VM afresh and plans from what it finds (a write that did land is then already in the config and
// is not planned again), so the change is completed forward, never doubled.
import type { Condition } from '../../api/v1alpha1/common.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import { errorMessage } from '../../kube/errors.js';

/** The first retry after the fault appears, and the longest wait between retries. */
export const DEFERRAL_MIN_MS = 2_000;
export const DEFERRAL_MAX_MS = 60_000;

export interface ApplyDeferral {
  condition: ConditionUpdate;
  requeueAfterMs: number;
}

/** The deferral for an apply error, or undefined when the error calls for the usual rollback. */
export function applyDeferral(err: unknown, previous: readonly Condition[] | undefined, now = new Date()): ApplyDeferral | undefined {
  const code = causeCode(err, ['VmLocked', 'Timeout']);
  if (!code) return undefined;
  const reason = code === 'VmLocked' ? 'VmLocked' : 'HypervisorTimeout';
  const message = code === 'VmLocked'
    ? `The VM is locked (${lockName(err) ?? 'unknown lock'}) by another Proxmox VE job such as a backup, snapshot or migration; nothing was rolled back, and the change is tried again once the lock is gone. ${errorMessage(err)}`
    : `The hypervisor did not answer in time, so whether the write took effect is unknown; nothing was rolled back, and the next pass reads the VM again and completes the change from where it is. ${errorMessage(err)}`;
  const condition: ConditionUpdate = { type: 'MediaConfigured', status: 'False', reason, message };
  return { condition, requeueAfterMs: backoffSince(previous, condition, now) };
}

/**
 * Roughly doubling waits without keeping a counter: the wait is as long as the fault has lasted
 * so far (the condition's lastTransitionTime says since when), clamped. Kept in status, so a new
 * leader backs off the same way. (lastTransitionTime moves only when the status flips, so a
 * fault that follows another with the same status starts from the longer wait; still capped.)
 */
export function backoffSince(previous: readonly Condition[] | undefined, condition: ConditionUpdate, now: Date): number {
  const same = previous?.find((c) => c.type === condition.type && c.status === condition.status && c.reason === condition.reason);
  const since = same?.lastTransitionTime ? Date.parse(same.lastTransitionTime) : NaN;
  const lasted = Number.isFinite(since) ? now.getTime() - since : 0;
  return Math.min(DEFERRAL_MAX_MS, Math.max(DEFERRAL_MIN_MS, lasted));
}

/** The first of `codes` found on the error or the errors that caused it. */
function causeCode(err: unknown, codes: readonly string[]): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && codes.includes(code)) return code;
  }
  return undefined;
}

/** PVE's message names the lock: "VM is locked (backup)". */
function lockName(err: unknown): string | undefined {
  return /VM is locked \(([\w-]+)\)/.exec(errorMessage(err))?.[1];
}
