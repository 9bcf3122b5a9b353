// How VirtualMachine and IsoAttachment reconcilers reach their hypervisor: the Hypervisor object,
// its credentials (watched, so a rotation re-queues the dependant) and the pooled driver. A
// problem comes back as a condition a person can act on, never as a thrown error.
import { HypervisorSpec, type Hypervisor } from '../../api/v1alpha1/hypervisor.js';
import type { HypervisorDriver } from '../../hypervisors/driver.js';
import type { DriverPool } from '../../hypervisors/pool.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import { errorMessage } from '../../kube/errors.js';
import type { ResourceStore } from '../../store/store.js';
import { credentialsCondition } from './status.js';

export type Connection =
  | { ok: true; hypervisor: Hypervisor; driver: HypervisorDriver }
  | { ok: false; condition: ConditionUpdate };

export async function connectToHypervisor(store: ResourceStore, drivers: DriverPool, name: string, onSecretChange: () => void): Promise<Connection> {
  const fail = (reason: string, message: string): Connection => ({ ok: false, condition: { type: 'HypervisorReady', status: 'False', reason, message } });
  const hv = store.get<Hypervisor>('Hypervisor', name);
  if (!hv) return fail('HypervisorNotFound', `Hypervisor ${name} does not exist.`);
  const spec = HypervisorSpec.safeParse(hv.spec);
  if (!spec.success) return fail('HypervisorInvalid', `Hypervisor ${name} has an invalid spec.`);
  const ref = spec.data.credentialsSecretRef;
  let credentials;
  try {
    credentials = ref ? await store.getSecret(ref.namespace, ref.name, onSecretChange) : undefined;
  } catch (err) {
    return fail('SecretUnreadable', `Secret ${ref?.namespace}/${ref?.name} of Hypervisor ${name} could not be read: ${errorMessage(err)}`);
  }
  const creds = credentialsCondition(spec.data, ref ? (credentials ? Object.keys(credentials.data) : undefined) : []);
  if (creds.status !== 'True') return fail(creds.reason, `Hypervisor ${name}: ${creds.message}`);
  let driver: HypervisorDriver | undefined;
  try {
    driver = drivers.driverFor({ ...hv, spec: spec.data }, credentials);
  } catch (err) {
    return fail((err as { code?: string }).code ?? 'DriverError', `Hypervisor ${name}: ${errorMessage(err)}`);
  }
  if (!driver) return fail('DriverNotAvailable', `This bootplane build has no ${spec.data.type} driver.`);
  return { ok: true, hypervisor: { ...hv, spec: spec.data }, driver };
}

/**
 * One change listener per key: the store keeps every listener it is given, so a new closure per
 * reconcile would pile up (and all fire on a Secret change). Keyed by the dependant for its own
 * sources (a VM's cloud-init Secret), by Hypervisor for credentials (credentialListeners).
 */
export class SecretListeners {
  private readonly listeners = new Map<string, () => void>();

  constructor(private readonly enqueue: (key: string) => void) {}

  for(key: string): () => void {
    let listener = this.listeners.get(key);
    if (!listener) {
      listener = () => this.enqueue(key);
      this.listeners.set(key, listener);
    }
    return listener;
  }
}

/**
 * Credentials listeners keyed by Hypervisor, shared by everything on it: a rotated Secret
 * re-queues the Hypervisor's dependants, found through the caches' indexes when it happens. A
 * listener per VM and per IsoAttachment was 20,000 closures and keys at 10,000 pairs, kept in
 * the store after the objects were gone.
 */
export function credentialListeners(dependantsOf: (hypervisor: string) => Iterable<string>, enqueue: (key: string) => void): SecretListeners {
  return new SecretListeners((hypervisor) => {
    for (const key of dependantsOf(hypervisor)) enqueue(key);
  });
}
