// When a new IsoAttachment's first status is written: not while its VM waits for its turn, and
// at once when the VM's turn ended without a change the attachment reads (vmTurnEnded), with no
// polling in between. A fake driver and the in-memory store.
import { describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../api/v1alpha1/hypervisor.js';
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import { DriverRegistry, type HypervisorDriver } from '../../hypervisors/driver.js';
import { DriverPool } from '../../hypervisors/pool.js';
import { silentLogger } from '../../observability/logger.js';
import { MemoryStore } from '../../store/memory-store.js';
import { HYPERVISOR_INDEX } from '../hypervisor/reconciler.js';
import { hypervisorOfVm } from '../hypervisor/watches.js';
import { VM_INDEX, vmOfAttachment } from '../virtualmachine/watches.js';
import { IsoAttachmentReconciler } from './reconciler.js';

const VOLUME = 'local:iso/installer.iso';

function setup() {
  const store = new MemoryStore();
  store.addIndex('IsoAttachment', VM_INDEX, vmOfAttachment);
  store.addIndex('VirtualMachine', HYPERVISOR_INDEX, hypervisorOfVm);
  store.put<Hypervisor>('Hypervisor', { apiVersion: 'bootplane.io/v1alpha1', kind: 'Hypervisor', metadata: { name: 'host' }, spec: { type: 'libvirt', libvirt: { uri: 'qemu:///system' } } } as Hypervisor);
  store.put<VirtualMachine>('VirtualMachine', { apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'web', namespace: 'lab', uid: 'vm-1' }, spec: { hypervisorRef: { name: 'host' }, libvirt: { domainName: 'web' } }, status: { conditions: [], devices: [] } } as unknown as VirtualMachine);
  store.put<IsoAttachment>('IsoAttachment', { apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name: 'installer', namespace: 'lab', uid: 'iso-1' }, spec: { vmRef: { name: 'web' }, source: { volume: VOLUME } } } as unknown as IsoAttachment);
  const driver = { findIso: () => Promise.resolve({ volume: VOLUME, sizeBytes: 1 }), close: () => Promise.resolve() } as unknown as HypervisorDriver;
  const registry = new DriverRegistry();
  registry.register('libvirt', () => driver);
  const enqueued: string[] = [];
  let vmPending = true;
  const reconciler = new IsoAttachmentReconciler(store, new DriverPool(registry), (key) => enqueued.push(key), () => undefined, undefined, () => vmPending);
  const ctx = { log: silentLogger(), reconcileId: 'r', signal: AbortSignal.timeout(5000) };
  const reconcile = () => reconciler.reconcile({ namespace: 'lab', name: 'installer' }, ctx);
  return { store, reconciler, enqueued, reconcile, setVmPending: (p: boolean) => { vmPending = p; } };
}

describe('IsoAttachment first status and its VM turn', () => {
  it('writes nothing while the VM waits for its turn, and comes back on its own only at the 10-minute bound', async () => {
    const { store, reconcile } = setup();
    const result = await reconcile();
    expect(store.statusWrites).toEqual([]);
    expect(result?.requeueAfterMs).toBeGreaterThan(590_000);
  });

  it('writes at once when the VM turn ended without anything it reads changing, though the VM still counts as pending', async () => {
    const { store, reconciler, enqueued, reconcile } = setup();
    await reconcile();
    reconciler.vmTurnEnded('lab/web');
    expect(enqueued).toEqual(['lab/installer']);
    await reconcile(); // the VM is still "pending": the turn ended inside its reconcile
    expect(store.statusWrites).toHaveLength(1);
    expect(store.statusWrites[0]!.status).toMatchObject({ phase: 'Attaching' });
  });

  it('ignores a turn that ended for a VM it does not wait on, and an attachment already written', async () => {
    const { store, reconciler, enqueued, reconcile, setVmPending } = setup();
    reconciler.vmTurnEnded('lab/web'); // nothing waits yet
    expect(enqueued).toEqual([]);
    setVmPending(false);
    await reconcile(); // the VM had its turn: written now
    expect(store.statusWrites).toHaveLength(1);
    reconciler.vmTurnEnded('lab/web');
    expect(enqueued).toEqual([]);
  });
});
