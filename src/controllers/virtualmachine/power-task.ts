// Power actions that the hypervisor runs as tasks (Proxmox qmstart, qmshutdown, ...): the task is
// kept in status.powerTask and polled on later passes. While one is in flight, and on the pass
// that sees it end (the power read at the start of that pass may predate it), no other power
// action is asked for, so none runs twice.
import type { VirtualMachineStatus } from '../../api/v1alpha1/virtual-machine.js';
import type { HypervisorDriver, VmRef } from '../../hypervisors/driver.js';
import type { ReconcileContext } from '../../kube/controller.js';
import { errorMessage } from '../../kube/errors.js';
import { metaTime } from '../../kube/time.js';
import type { ResourceStore } from '../../store/store.js';
import type { CreatePass } from './create.js';

export const POWER_POLL_MS = 2_000;
const AFTER_FAILURE_MS = 30_000;

/** Busy: a power task is (or just was) in flight, so ask for no power action this pass; come back after requeueAfterMs. */
export interface PowerTaskState { busy: boolean; requeueAfterMs?: number }

export async function powerTaskState(pass: CreatePass, store: ResourceStore, driver: HypervisorDriver, ref: VmRef, ctx: ReconcileContext): Promise<PowerTaskState> {
  const inFlight = pass.vm.status?.powerTask;
  if (!inFlight) return { busy: false };
  let status;
  try {
    status = await driver.taskStatus(ref, inFlight.task, ctx.signal);
  } catch (err) {
    pass.updates.push({ type: 'PowerConfigured', status: 'Unknown', reason: 'PowerTaskUnknown', message: `Could not read power task ${inFlight.task} (${inFlight.action}): ${errorMessage(err)}` });
    return { busy: true, requeueAfterMs: AFTER_FAILURE_MS };
  }
  if (!status.done) {
    pass.updates.push({ type: 'PowerConfigured', status: 'Unknown', reason: 'PowerTaskRunning', message: `${inFlight.action} is running (task ${inFlight.task}).` });
    return { busy: true, requeueAfterMs: POWER_POLL_MS };
  }
  pass.fields.powerTask = undefined;
  if (status.ok) {
    pass.updates.push({ type: 'PowerConfigured', status: 'True', reason: 'PowerTaskSucceeded', message: `${inFlight.action} finished (task ${inFlight.task}).` });
  } else {
    pass.updates.push({ type: 'PowerConfigured', status: 'False', reason: 'PowerTaskFailed', message: `${inFlight.action} failed: ${status.message ?? 'task error'} (task ${inFlight.task}).` });
    store.recordEvent(pass.vm, 'Warning', 'PowerFailed', 'Power', `${inFlight.action} failed: ${status.message ?? 'task error'}`);
    return { busy: true, requeueAfterMs: AFTER_FAILURE_MS };
  }
  return { busy: true, requeueAfterMs: POWER_POLL_MS };
}

/** The status.powerTask record of a power action the driver returned a task for. */
export function powerTaskRecord(action: NonNullable<VirtualMachineStatus['powerTask']>['action'], task: string | undefined): VirtualMachineStatus['powerTask'] {
  return task ? { action, task, startedAt: metaTime() } : undefined;
}
