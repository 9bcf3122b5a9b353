// The drivers this build ships, by Hypervisor type. Both the cluster and the standalone
// composition roots use this one list.
import { DriverRegistry } from './driver.js';
import { libvirtDriverFactory } from './libvirt/driver.js';
import { proxmoxDriverFactory } from './proxmox/driver.js';

export function defaultDriverRegistry(): DriverRegistry {
  const registry = new DriverRegistry();
  registry.register('proxmox', proxmoxDriverFactory);
  registry.register('libvirt', libvirtDriverFactory);
  return registry;
}
