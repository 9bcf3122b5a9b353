// BootProfile reconcile: fetch -> validate -> render with defaults -> count the assignments that
// use it -> status written once.
import { BootProfileSpec, type BootProfile } from '../../api/v1alpha1/boot-profile.js';
import type { Condition } from '../../api/v1alpha1/common.js';
import { ASSIGNMENT_PROFILE_INDEX } from '../../boot/indexes.js';
import { changedConditions, setCondition, type ConditionUpdate } from '../../kube/conditions.js';
import type { ReconcileResult, Reconciler } from '../../kube/controller.js';
import type { ObjectKey } from '../../kube/object.js';
import type { ResourceStore } from '../../store/store.js';
import { checkProfileRenders, readyCondition } from './status.js';

const KIND = 'BootProfile';

export class BootProfileReconciler implements Reconciler {
  constructor(private readonly store: ResourceStore, private readonly serverUrl: string) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult | void> {
    const profile = this.store.get<BootProfile>(KIND, `${key.namespace}/${key.name}`);
    if (!profile || profile.metadata.deletionTimestamp) return;
    const assignments = this.store.byIndex('NodeBootAssignment', ASSIGNMENT_PROFILE_INDEX, `${key.namespace}/${key.name}`).length;

    const spec = BootProfileSpec.safeParse(profile.spec);
    if (!spec.success) {
      const message = spec.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');
      return this.writeStatus(profile, { type: 'Rendered', status: 'False', reason: 'InvalidSpec', message }, { assignments });
    }
    const check = checkProfileRenders({ ...profile, spec: spec.data }, this.serverUrl);
    await this.writeStatus(profile, check.condition, { assignments, scriptHash: check.scriptHash });
  }

  private async writeStatus(profile: BootProfile, update: ConditionUpdate, fields: { assignments: number; scriptHash?: string }): Promise<void> {
    const generation = profile.metadata.generation;
    const before = profile.status?.conditions;
    let conditions: Condition[] = setCondition(before, update, generation);
    conditions = setCondition(conditions, readyCondition(conditions, ['Rendered']), generation);
    const status: Record<string, unknown> = { ...(profile.status ?? {}), ...fields, observedGeneration: generation, conditions };
    if (fields.scriptHash === undefined) delete status.scriptHash;
    const wrote = await this.store.writeStatus(KIND, profile, status);
    if (!wrote) return;
    for (const c of changedConditions(before, conditions)) {
      if (c.type !== 'Rendered') continue;
      this.store.recordEvent(profile, c.status === 'False' ? 'Warning' : 'Normal', c.reason, c.type, c.message);
    }
  }
}
