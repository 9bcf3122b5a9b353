// The one interface controllers use to talk to a hypervisor. Each driver (Proxmox over its HTTP
// API, libvirt over its RPC protocol) implements it; controllers never import a driver directly.
import type { Hypervisor } from '../api/v1alpha1/hypervisor.js';
import type { SecretData } from '../store/store.js';

export interface HypervisorInventory {
  version: string;
  nodes: { name: string; online: boolean }[];
  storages: { name: string; node?: string; type?: string; content?: string[]; totalBytes?: number; availableBytes?: number }[];
  isos: { volume: string; sizeBytes?: number }[];
}

export interface HypervisorDriver {
  /** Connects (or reuses a connection) and reads version, nodes, storages and ISO volumes. */
  inventory(signal: AbortSignal): Promise<HypervisorInventory>;
  close(): Promise<void>;
}

export class DriverError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export type DriverFactory = (hypervisor: Hypervisor, credentials: SecretData | undefined) => HypervisorDriver;

/** Drivers by hypervisor type; main.ts registers the ones this build ships. */
export class DriverRegistry {
  private readonly factories = new Map<string, DriverFactory>();

  register(type: string, factory: DriverFactory): void { this.factories.set(type, factory); }

  factory(type: string): DriverFactory | undefined { return this.factories.get(type); }
}
