// A power action is a hypervisor task that outlives the reconcile that sent it (a Proxmox
// qmstart runs for seconds or minutes, and the VM reads as stopped until it ends). It is recorded
// in status.operation — the intent before the call, the task once the call returns — so that
// neither a later pass nor a new leader sends it a second time while it runs.
import { randomUUID } from 'node:crypto';
import type { VirtualMachineStatus } from '../../api/v1alpha1/virtual-machine.js';
import type { HypervisorDriver, VmRef } from '../../hypervisors/driver.js';
import type { ObservedVm } from '../../planning/model.js';
import { metaTime } from '../../kube/time.js';

export type PowerAction = 'start' | 'shutdown' | 'reboot';
type Operation = NonNullable<VirtualMachineStatus['operation']>;

const KIND_PREFIX = 'power.';
/** How often a recorded power task is polled. */
export const POWER_POLL_MS = 2_000;
/**
 * When a replica died between recording the intent and recording the task, nobody knows
 * whether the call reached the hypervisor: wait this long for the VM to show the result before
 * deciding afresh (a second action before then could be the duplicate).
 */
export const UNKNOWN_OUTCOME_GRACE_MS = 60_000;

export function isPowerOperation(operation: Operation | undefined): boolean {
  return operation?.kind.startsWith(KIND_PREFIX) === true;
}

/** The action a power operation carries out: start, shutdown or reboot. */
export function powerActionOf(operation: Operation): string {
  return operation.kind.slice(KIND_PREFIX.length);
}

export function powerIntent(action: PowerAction, why: string): Operation {
  return { id: randomUUID().slice(0, 8), kind: `${KIND_PREFIX}${action}`, startedAt: metaTime(), steps: [{ description: `power ${action}: ${why}`.slice(0, 1024), done: false }] };
}

export function withTask(operation: Operation, task: string): Operation {
  return { ...operation, task, steps: operation.steps.map((s) => ({ ...s, done: true })) };
}

export type PowerOutcome = { running: true } | { running: false; failure?: string };

/** Where a recorded power action stands: still running (send nothing), or over. */
export async function pollPowerOperation(operation: Operation, driver: HypervisorDriver, ref: VmRef, observed: ObservedVm, signal: AbortSignal, now = Date.now()): Promise<PowerOutcome> {
  if (operation.task) {
    const task = await driver.taskStatus(ref, operation.task, signal);
    if (!task.done) return { running: true };
    return task.ok === false ? { running: false, failure: task.message ?? 'the task failed' } : { running: false };
  }
  const action = powerActionOf(operation);
  const reached = (action === 'start' && observed.power === 'Running') || (action === 'shutdown' && observed.power === 'Stopped');
  if (reached) return { running: false };
  return now - Date.parse(operation.startedAt) < UNKNOWN_OUTCOME_GRACE_MS ? { running: true } : { running: false };
}
