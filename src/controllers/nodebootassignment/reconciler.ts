// NodeBootAssignment reconcile: fetch -> validate -> identify the machine (its MAC, or its VM's
// MACs) -> resolve and render the profile -> status written once. Nothing outside the API
// server changes, so there is no finalizer; the boot server reads what this writes
// (status.macAddresses feeds its MAC index).
import type { BootProfile } from '../../api/v1alpha1/boot-profile.js';
import type { Condition } from '../../api/v1alpha1/common.js';
import { NodeBootAssignmentSpec, type NodeBootAssignment, type NodeBootAssignmentStatus } from '../../api/v1alpha1/node-boot-assignment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import { changedConditions, setCondition, type ConditionUpdate } from '../../kube/conditions.js';
import type { ReconcileResult, Reconciler } from '../../kube/controller.js';
import type { ObjectKey } from '../../kube/object.js';
import type { ResourceStore } from '../../store/store.js';
import { readyCondition } from '../bootprofile/status.js';
import { ASSIGNMENT_MAC_INDEX } from '../../boot/indexes.js';
import { keyOf } from '../../kube/object.js';
import { checkProfile, identifyMachine, macConflict } from './status.js';

const KIND = 'NodeBootAssignment';

export class NodeBootAssignmentReconciler implements Reconciler {
  /** serverUrl: the boot server's advertised URL, so profileScriptHash matches what machines get. */
  constructor(private readonly store: ResourceStore, private readonly serverUrl: string) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult | void> {
    const assignment = this.store.get<NodeBootAssignment>(KIND, `${key.namespace}/${key.name}`);
    if (!assignment || assignment.metadata.deletionTimestamp) return;

    const spec = NodeBootAssignmentSpec.safeParse(assignment.spec);
    if (!spec.success) {
      const message = spec.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');
      return this.writeStatus(assignment, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message }], {});
    }
    const valid = { ...assignment, spec: spec.data };

    const vm = spec.data.vmRef ? this.store.get<VirtualMachine>('VirtualMachine', `${key.namespace}/${spec.data.vmRef.name}`) : undefined;
    const identity = identifyMachine(valid, vm);
    const profile = this.store.get<BootProfile>('BootProfile', `${key.namespace}/${spec.data.profileRef.name}`);
    const check = checkProfile(valid, profile, identity.macAddresses[0], this.serverUrl);

    const unique = macConflict(keyOf(assignment), identity.macAddresses, (mac) => this.store.byIndex<NodeBootAssignment>(KIND, ASSIGNMENT_MAC_INDEX, mac).map(keyOf));
    const updates: ConditionUpdate[] = [identity.condition, unique, ...check.conditions];
    if (spec.data.state === 'Disabled') {
      updates.push({ type: 'Ready', status: 'False', reason: 'Disabled', message: 'spec.state is Disabled: the machine gets the fallback, as unknown machines do.' });
    }
    await this.writeStatus(assignment, updates, {
      macAddresses: identity.macAddresses.length > 0 ? identity.macAddresses : undefined,
      profileScriptHash: check.scriptHash,
    });
  }

  private async writeStatus(assignment: NodeBootAssignment, updates: ConditionUpdate[], fields: Partial<NodeBootAssignmentStatus>): Promise<void> {
    const generation = assignment.metadata.generation;
    const before = assignment.status?.conditions;
    let conditions: Condition[] = [...(before ?? [])];
    for (const update of updates) conditions = setCondition(conditions, update, generation);
    if (!updates.some((u) => u.type === 'Ready')) conditions = setCondition(conditions, readyCondition(conditions, ['MachineIdentified', 'MacAddressUnique', 'ProfileResolved', 'Rendered']), generation);
    const status: NodeBootAssignmentStatus = { ...(assignment.status ?? {}), ...fields, observedGeneration: generation, conditions };
    // Fields this pass has nothing to say about are removed, not kept stale.
    for (const [k, v] of Object.entries(fields)) if (v === undefined) delete (status as Record<string, unknown>)[k];
    const wrote = await this.store.writeStatus(KIND, assignment, status as Record<string, unknown>);
    if (!wrote) return;
    for (const c of changedConditions(before, conditions)) {
      if (c.status === 'Unknown' || c.type === 'Ready') continue;
      this.store.recordEvent(assignment, c.status === 'False' ? 'Warning' : 'Normal', c.reason, c.type, c.message);
    }
  }
}
