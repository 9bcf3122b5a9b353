// One driver per Hypervisor, rebuilt when the Hypervisor's spec or its credentials change, so a
// rotated Secret takes effect on the next reconcile without a restart.
import type { Hypervisor } from '../api/v1alpha1/hypervisor.js';
import type { SecretData } from '../store/store.js';
import type { DriverRegistry, HypervisorDriver } from './driver.js';

interface Entry {
  fingerprint: string;
  driver: HypervisorDriver;
}

export class DriverPool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly registry: DriverRegistry) {}

  supports(type: string): boolean { return this.registry.factory(type) !== undefined; }

  /** The driver for this Hypervisor, or undefined when this build has none for its type. */
  driverFor(hypervisor: Hypervisor, credentials: SecretData | undefined): HypervisorDriver | undefined {
    const factory = this.registry.factory(hypervisor.spec.type);
    if (!factory) return undefined;
    const fingerprint = `${hypervisor.metadata.generation ?? 0}/${credentials?.resourceVersion ?? '-'}`;
    const name = hypervisor.metadata.name;
    const existing = this.entries.get(name);
    if (existing && existing.fingerprint === fingerprint) return existing.driver;
    if (existing) void existing.driver.close();
    const driver = factory(hypervisor, credentials);
    this.entries.set(name, { fingerprint, driver });
    return driver;
  }

  async release(name: string): Promise<void> {
    const entry = this.entries.get(name);
    this.entries.delete(name);
    await entry?.driver.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((name) => this.release(name)));
  }
}
