// Retiring a VM when others are ready (spec.teardown), for example an OKD bootstrap node once
// enough control-plane VMs are Ready: Stop powers it off, Delete also removes it from the
// hypervisor with the disks it owns — only because the spec declared it. Once retired it stays
// retired: bootplane does not start or recreate it when the others later become unready.
import type { VirtualMachine, VirtualMachineSpec } from '../../api/v1alpha1/virtual-machine.js';
import type { HypervisorDriver, VmRef } from '../../hypervisors/driver.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import { errorMessage } from '../../kube/errors.js';
import { keyOf, type KubeObject } from '../../kube/object.js';
import type { ObservedVm } from '../../planning/model.js';
import type { ResourceStore } from '../../store/store.js';

type TeardownSpec = NonNullable<VirtualMachineSpec['teardown']>;

export interface TeardownOutcome {
  /** The VM is retiring or retired: the rest of the pass (media, power) is skipped. */
  retire: boolean;
  updates: ConditionUpdate[];
  requeueAfterMs?: number;
}

const POLL_MS = 2_000;
const RETRY_MS = 30_000;

function isReady(vm: KubeObject): boolean {
  return (vm.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function matches(labels: Record<string, string> | undefined, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Pure: how many of the VMs this one waits for are Ready, and whether that is enough. */
export function teardownProgress(self: VirtualMachine, teardown: TeardownSpec, vms: Iterable<KubeObject>): { ready: number; due: boolean } {
  let ready = 0;
  for (const vm of vms) {
    if (vm.metadata.namespace !== self.metadata.namespace || vm.metadata.name === self.metadata.name) continue;
    if (matches(vm.metadata.labels, teardown.whenReady.matchLabels) && isReady(vm)) ready++;
  }
  return { ready, due: ready >= teardown.whenReady.count };
}

/** VMs (keys) whose teardown waits on this VM: they reconcile when its readiness changes. */
/** Index of VMs that have spec.teardown, by namespace: the few a readiness change can concern. */
export const TEARDOWN_INDEX = 'teardownNamespace';

export function teardownNamespace(obj: KubeObject): string[] {
  return (obj.spec as VirtualMachineSpec | undefined)?.teardown && obj.metadata.namespace ? [obj.metadata.namespace] : [];
}

export function teardownWaiters(store: ResourceStore, changed: KubeObject): string[] {
  const out: string[] = [];
  // Through the index, not a scan of every VM: every VM's readiness changes once as a fleet
  // converges, and a scan each time made that quadratic in VMs.
  for (const vm of store.byIndex<VirtualMachine>('VirtualMachine', TEARDOWN_INDEX, changed.metadata.namespace ?? '')) {
    const teardown = vm.spec.teardown;
    if (!teardown || vm.metadata.name === changed.metadata.name) continue;
    if (matches(changed.metadata.labels, teardown.whenReady.matchLabels)) out.push(keyOf(vm));
  }
  return out;
}

/** Whether Ready differs between two versions of a VM (what teardown waiters care about). */
export function readinessChanged(old: KubeObject | undefined, obj: KubeObject): boolean {
  return !old || isReady(old) !== isReady(obj);
}

export class Teardown {
  private readonly deleteTasks = new Map<string, string>();

  constructor(private readonly store: ResourceStore) {}

  async run(vm: VirtualMachine, spec: VirtualMachineSpec, driver: HypervisorDriver, ref: VmRef, observed: ObservedVm | undefined, signal: AbortSignal): Promise<TeardownOutcome | undefined> {
    const teardown = spec.teardown;
    if (!teardown) return undefined;
    const done = vm.status?.conditions?.find((c) => c.type === 'TornDown' && c.status === 'True');
    if (done) return { retire: true, updates: [] };

    const { ready, due } = teardownProgress(vm, teardown, this.store.list<VirtualMachine>('VirtualMachine'));
    const selector = Object.entries(teardown.whenReady.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
    if (!due) {
      return { retire: false, updates: [{ type: 'TornDown', status: 'False', reason: 'WaitingForPeers', message: `${ready} of ${teardown.whenReady.count} VirtualMachines with ${selector} are Ready; then this VM is ${teardown.action === 'Delete' ? 'deleted' : 'stopped'}.` }] };
    }
    const why = `${ready} VirtualMachines with ${selector} are Ready (spec.teardown)`;
    const key = keyOf(vm);
    try {
      if (!observed) {
        this.deleteTasks.delete(key);
        const note = teardown.action === 'Delete' ? `Deleted from the hypervisor: ${why}.` : `The VM no longer exists on the hypervisor; nothing to stop.`;
        this.store.recordEvent(vm, 'Normal', teardown.action === 'Delete' ? 'Deleted' : 'TornDown', 'Teardown', note);
        return { retire: true, updates: [{ type: 'TornDown', status: 'True', reason: 'Deleted', message: note }] };
      }
      if (observed.power !== 'Stopped') {
        await driver.power(ref, 'stop', signal);
        this.store.recordEvent(vm, 'Normal', 'PowerStop', 'Teardown', `Stopped: ${why}.`);
        return { retire: true, updates: [{ type: 'TornDown', status: 'False', reason: 'Stopping', message: `Stopping: ${why}.` }], requeueAfterMs: POLL_MS };
      }
      if (teardown.action === 'Stop') {
        return { retire: true, updates: [{ type: 'TornDown', status: 'True', reason: 'Stopped', message: `Stopped: ${why}. bootplane leaves it off.` }] };
      }
      return await this.delete(vm, driver, ref, why, signal);
    } catch (err) {
      this.deleteTasks.delete(key);
      return { retire: true, updates: [{ type: 'TornDown', status: 'False', reason: 'TeardownFailed', message: `${teardown.action} failed: ${errorMessage(err)}` }], requeueAfterMs: RETRY_MS };
    }
  }

  /** Deletes a stopped VM (disks it owns included: the spec declared action Delete). */
  private async delete(vm: VirtualMachine, driver: HypervisorDriver, ref: VmRef, why: string, signal: AbortSignal): Promise<TeardownOutcome> {
    const key = keyOf(vm);
    const inFlight = this.deleteTasks.get(key);
    if (inFlight) {
      const task = await driver.taskStatus(ref, inFlight, signal);
      if (!task.done) return { retire: true, updates: [{ type: 'TornDown', status: 'False', reason: 'Deleting', message: `Deleting (task ${inFlight}).` }], requeueAfterMs: POLL_MS };
      this.deleteTasks.delete(key);
      if (!task.ok) return { retire: true, updates: [{ type: 'TornDown', status: 'False', reason: 'TeardownFailed', message: `Delete failed: ${task.message ?? 'the task failed'}` }], requeueAfterMs: RETRY_MS };
      return { retire: true, updates: [{ type: 'TornDown', status: 'False', reason: 'Deleting', message: 'The delete task ended; checking that the VM is gone.' }], requeueAfterMs: 0 };
    }
    if (!driver.deleteVm) {
      return { retire: true, updates: [{ type: 'TornDown', status: 'False', reason: 'NotSupported', message: 'This hypervisor driver cannot delete VMs; the VM is stopped but not deleted.' }] };
    }
    const { task, keptVolumes } = await driver.deleteVm(ref, signal);
    const kept = keptVolumes?.length ? ` Volumes not owned by the VM were kept: ${keptVolumes.join(', ')}.` : '';
    this.store.recordEvent(vm, 'Normal', 'Deleting', 'Teardown', `Deleting the VM and the disks it owns (spec.teardown.action: Delete): ${why}.${kept}`);
    if (task) this.deleteTasks.set(key, task);
    return { retire: true, updates: [{ type: 'TornDown', status: 'False', reason: 'Deleting', message: `Deleting the VM and the disks it owns (spec.teardown.action: Delete).${kept}` }], requeueAfterMs: task ? POLL_MS : 0 };
  }
}
