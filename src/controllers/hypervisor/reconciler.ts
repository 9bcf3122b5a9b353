// Hypervisor reconcile: fetch -> deletion (blocked while VMs reference it, with an escape hatch)
// -> finalizer -> credentials -> connectivity and inventory -> status written once.
import { HypervisorSpec, type Hypervisor, type HypervisorStatus } from '../../api/v1alpha1/hypervisor.js';
import type { Condition } from '../../api/v1alpha1/common.js';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../../kube/controller.js';
import { changedConditions, setCondition, type ConditionUpdate } from '../../kube/conditions.js';
import { errorMessage } from '../../kube/errors.js';
import { hasFinalizer } from '../../kube/finalizers.js';
import { keyOf, type ObjectKey } from '../../kube/object.js';
import { metaTime } from '../../kube/time.js';
import type { DriverPool } from '../../hypervisors/pool.js';
import type { ResourceStore, SecretData } from '../../store/store.js';
import { SecretListeners } from './connection.js';
import {
  credentialsCondition, deletionBlockedMessage, FORCE_DELETE_ANNOTATION, readyCondition, tlsCondition,
} from './status.js';

export const HYPERVISOR_INDEX = 'hypervisor';
const DELETION_RECHECK_MS = 30_000;
const UNREACHABLE_RETRY_MS = 30_000;

export class HypervisorReconciler implements Reconciler {
  constructor(
    private readonly store: ResourceStore,
    private readonly drivers: DriverPool,
    private readonly enqueue: (key: string) => void,
  ) {}

  private readonly secretListeners = new SecretListeners((key) => this.enqueue(key));

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const hv = this.store.get<Hypervisor>('Hypervisor', key.name);
    if (!hv) return;

    if (hv.metadata.deletionTimestamp) return this.finalize(hv, ctx);
    if (!hasFinalizer(hv)) {
      await this.store.addFinalizer('Hypervisor', hv);
      return; // the update comes back through the watch
    }

    const spec = HypervisorSpec.safeParse(hv.spec);
    if (!spec.success) {
      const message = spec.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');
      return this.writeStatus(hv, [
        { type: 'Ready', status: 'False', reason: 'InvalidSpec', message },
      ], {});
    }

    const updates: ConditionUpdate[] = [tlsCondition(spec.data)];
    let credentials: SecretData | undefined;
    const ref = spec.data.credentialsSecretRef;
    try {
      credentials = ref ? await this.store.getSecret(ref.namespace, ref.name, this.secretListeners.for(keyOf(hv))) : undefined;
      updates.push(credentialsCondition(spec.data, ref ? (credentials ? Object.keys(credentials.data) : undefined) : []));
    } catch (err) {
      updates.push({ type: 'CredentialsResolved', status: 'False', reason: 'SecretUnreadable', message: `Secret ${ref?.namespace}/${ref?.name} could not be read: ${errorMessage(err)}` });
    }

    const inventory: Partial<HypervisorStatus> = {};
    let requeueAfterMs: number | undefined = spec.data.inventoryIntervalSeconds * 1000;
    const credentialsOk = updates.some((u) => u.type === 'CredentialsResolved' && u.status === 'True');
    const driver = credentialsOk ? this.drivers.driverFor({ ...hv, spec: spec.data }, credentials) : undefined;
    if (!credentialsOk) {
      updates.push({ type: 'Connected', status: 'Unknown', reason: 'CredentialsNotResolved', message: 'Not tried: the credentials are not resolved.' });
      requeueAfterMs = undefined; // the Secret watch brings us back
    } else if (!driver) {
      updates.push({ type: 'Connected', status: 'Unknown', reason: 'DriverNotAvailable', message: `This bootplane build has no ${spec.data.type} driver; the connection is not checked.` });
      requeueAfterMs = undefined;
    } else {
      try {
        const found = await driver.inventory(ctx.signal);
        Object.assign(inventory, { version: found.version, nodes: found.nodes, storages: found.storages, isos: found.isos, lastInventoryTime: metaTime() });
        updates.push({ type: 'Connected', status: 'True', reason: 'Reachable', message: `Connected to ${spec.data.type} ${found.version}.` });
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'Unreachable';
        updates.push({ type: 'Connected', status: 'False', reason: /^[A-Z][A-Za-z]+$/.test(code) ? code : 'Unreachable', message: errorMessage(err) });
        requeueAfterMs = UNREACHABLE_RETRY_MS;
      }
    }

    await this.writeStatus(hv, updates, inventory);
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  private async finalize(hv: Hypervisor, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    if (!hasFinalizer(hv)) return;
    const referencing = this.store.byIndex('VirtualMachine', HYPERVISOR_INDEX, hv.metadata.name).map(keyOf).sort();
    const forced = hv.metadata.annotations?.[FORCE_DELETE_ANNOTATION] === 'true';
    if (referencing.length > 0 && !forced) {
      await this.writeStatus(hv, [{ type: 'Ready', status: 'False', reason: 'DeletionBlocked', message: deletionBlockedMessage(referencing) }], {});
      return { requeueAfterMs: DELETION_RECHECK_MS };
    }
    if (forced && referencing.length > 0) {
      this.store.recordEvent(hv, 'Warning', 'ForceDeleted', 'Delete', `Removed while ${referencing.length} VirtualMachine(s) still reference it (${FORCE_DELETE_ANNOTATION}=true).`);
      ctx.log.warn({ referencing: referencing.length }, 'hypervisor force-deleted');
    }
    await this.drivers.release(hv.metadata.name);
    await this.store.removeFinalizer('Hypervisor', hv);
  }

  private async writeStatus(hv: Hypervisor, updates: ConditionUpdate[], fields: Partial<HypervisorStatus>): Promise<void> {
    const generation = hv.metadata.generation;
    const before = hv.status?.conditions;
    let conditions: Condition[] = [...(before ?? [])];
    for (const update of updates) conditions = setCondition(conditions, update, generation);
    if (!updates.some((u) => u.type === 'Ready')) conditions = setCondition(conditions, readyCondition(conditions), generation);
    const status: HypervisorStatus = {
      ...(hv.status ?? {}),
      ...fields,
      observedGeneration: generation,
      endpoint: hv.spec.proxmox?.endpoint ?? hv.spec.libvirt?.uri,
      conditions,
    };
    const wrote = await this.store.writeStatus('Hypervisor', hv, status as Record<string, unknown>);
    if (!wrote) return;
    for (const c of changedConditions(before, conditions)) {
      if (c.status === 'Unknown' || (c.type === 'InsecureTLS' && c.status === 'False')) continue;
      const warning = c.type === 'InsecureTLS' ? c.status === 'True' : c.status === 'False';
      this.store.recordEvent(hv, warning ? 'Warning' : 'Normal', c.reason, c.type, c.message);
    }
  }
}
