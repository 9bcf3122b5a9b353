// What happens once a VM is installed, besides the media (the planner already ejects the
// AfterInstall ISOs and applies afterInstall.bootPreset from the Installed state): the machine's
// boot-once NodeBootAssignments are marked used, so the boot server answers local boot, and the
// snapshot named in spec is taken exactly once. Status only, never spec.
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import type { VirtualMachine, VirtualMachineSpec } from '../../api/v1alpha1/virtual-machine.js';
import type { HypervisorDriver, VmRef } from '../../hypervisors/driver.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import { errorMessage } from '../../kube/errors.js';
import { keyOf } from '../../kube/object.js';
import type { ResourceStore } from '../../store/store.js';

export interface SnapshotOutcome {
  condition: ConditionUpdate;
  /** status.snapshots when it gains the name. */
  snapshots?: string[];
  requeueAfterMs?: number;
}

const SNAPSHOT_POLL_MS = 2_000;
const SNAPSHOT_RETRY_MS = 60_000;

export class AfterInstall {
  /** Snapshot tasks this replica started (Proxmox), by VM key; after a restart the hypervisor's list is the truth. */
  private readonly snapshotTasks = new Map<string, { name: string; task: string }>();

  constructor(private readonly store: ResourceStore) {}

  /** Everything afterInstall asks for beyond the media, once the media are in place. */
  async run(vm: VirtualMachine, spec: VirtualMachineSpec, assignments: readonly NodeBootAssignment[], driver: HypervisorDriver, ref: VmRef, signal: AbortSignal): Promise<{ updates: ConditionUpdate[]; snapshots?: string[]; requeueAfterMs?: number }> {
    const updates: ConditionUpdate[] = [];
    const after = spec.install?.afterInstall;
    if (after?.localBootAssignment !== false) {
      const local = await this.switchToLocalBoot(vm, assignments);
      if (local) updates.push(local);
    }
    if (!after?.snapshotName) return { updates };
    const snapshot = await this.snapshot(vm, after.snapshotName, driver, ref, signal);
    updates.push(snapshot.condition);
    return { updates, ...(snapshot.snapshots ? { snapshots: snapshot.snapshots } : {}), ...(snapshot.requeueAfterMs !== undefined ? { requeueAfterMs: snapshot.requeueAfterMs } : {}) };
  }

  /**
   * Boot-once assignments still holding their boot get it marked used in their status
   * (bootOnceConsumedEpoch = spec.bootOnceEpoch): from then on the boot server answers local
   * boot, as it would after the one boot. An Always assignment is not changed (that is spec);
   * the condition says what to do about it.
   */
  async switchToLocalBoot(vm: VirtualMachine, assignments: readonly NodeBootAssignment[]): Promise<ConditionUpdate | undefined> {
    if (assignments.length === 0) return undefined;
    const always: string[] = [];
    const switched: string[] = [];
    for (const a of assignments) {
      if (a.metadata.deletionTimestamp || (a.spec.state ?? 'Enabled') !== 'Enabled') continue;
      if (a.spec.bootMode !== 'Once') {
        always.push(a.metadata.name);
        continue;
      }
      const epoch = a.spec.bootOnceEpoch ?? 0;
      if (a.status?.bootOnceConsumedEpoch === epoch) continue;
      await this.store.writeStatus('NodeBootAssignment', a, { ...(a.status ?? {}), bootOnceConsumedEpoch: epoch });
      this.store.recordEvent(a, 'Normal', 'LocalBoot', 'Install', `VirtualMachine ${keyOf(vm)} is installed: this machine is answered with local boot until spec.bootOnceEpoch is raised.`);
      switched.push(a.metadata.name);
    }
    if (always.length > 0) {
      return {
        type: 'LocalBoot', status: 'False', reason: 'AssignmentAlwaysBoots',
        message: `NodeBootAssignment ${always.join(', ')} has bootMode Always, so the boot server keeps serving its profile; the VM's boot order no longer puts the network first, but set bootMode: Once (or state: Disabled) to stop serving the installer.`,
      };
    }
    return { type: 'LocalBoot', status: 'True', reason: 'LocalBoot', message: switched.length ? `Switched to local boot: ${switched.join(', ')}.` : 'The machine\'s network boot answers local boot.' };
  }

  /**
   * Takes spec.install.afterInstall.snapshotName once: a name already in status.snapshots or on
   * the hypervisor is never taken again (a crash between taking it and writing status finds it
   * in the hypervisor's list). A Proxmox task is polled on later passes, never awaited.
   */
  async snapshot(vm: VirtualMachine, name: string, driver: HypervisorDriver, ref: VmRef, signal: AbortSignal): Promise<SnapshotOutcome> {
    const recorded = vm.status?.snapshots ?? [];
    if (recorded.includes(name)) return { condition: { type: 'Snapshot', status: 'True', reason: 'Taken', message: `Snapshot ${name} was taken after the install.` } };
    if (!driver.listSnapshots || !driver.createSnapshot) {
      return { condition: { type: 'Snapshot', status: 'False', reason: 'NotSupported', message: 'This hypervisor driver cannot take snapshots; spec.install.afterInstall.snapshotName is not honoured.' } };
    }
    const key = keyOf(vm);
    const taken = (): SnapshotOutcome => {
      this.snapshotTasks.delete(key);
      this.store.recordEvent(vm, 'Normal', 'SnapshotTaken', 'Install', `Snapshot ${name} taken after the install.`);
      return { condition: { type: 'Snapshot', status: 'True', reason: 'Taken', message: `Snapshot ${name} was taken after the install.` }, snapshots: [...recorded, name].slice(-64) };
    };
    try {
      const inFlight = this.snapshotTasks.get(key);
      if (inFlight?.name === name) {
        const task = await driver.taskStatus(ref, inFlight.task, signal);
        if (!task.done) return { condition: { type: 'Snapshot', status: 'False', reason: 'SnapshotInProgress', message: `Taking snapshot ${name} (task ${inFlight.task}).` }, requeueAfterMs: SNAPSHOT_POLL_MS };
        this.snapshotTasks.delete(key);
        if (!task.ok) return failed(name, task.message ?? 'the task failed');
      }
      if ((await driver.listSnapshots(ref, signal)).includes(name)) return taken();
      const { task } = await driver.createSnapshot(ref, name, `Taken by bootplane after the install of ${key}.`, signal);
      if (task) {
        this.snapshotTasks.set(key, { name, task });
        return { condition: { type: 'Snapshot', status: 'False', reason: 'SnapshotInProgress', message: `Taking snapshot ${name} (task ${task}).` }, requeueAfterMs: SNAPSHOT_POLL_MS };
      }
      return taken();
    } catch (err) {
      this.snapshotTasks.delete(key);
      return failed(name, errorMessage(err));
    }
  }
}

function failed(name: string, why: string): SnapshotOutcome {
  return { condition: { type: 'Snapshot', status: 'False', reason: 'SnapshotFailed', message: `Snapshot ${name} failed: ${why}` }, requeueAfterMs: SNAPSHOT_RETRY_MS };
}
