// Every bootplane controller and what makes each reconcile, built over any object sources and
// store: informers and the API server in a cluster, the directory store in standalone mode.
// Controllers are rebuilt for every leadership term, because a queue that was shut down stays down.
import type { Logger } from 'pino';
import type { ControllerConfig } from '../config/config.js';
import { addBootIndexes, addSessionIndexes } from '../boot/indexes.js';
import type { DriverPool } from '../hypervisors/pool.js';
import { Controller } from '../kube/controller.js';
import type { ObjectSource } from '../kube/source.js';
import { countDisklessPhasesFrom } from '../observability/metrics.js';
import type { ResourceStore } from '../store/store.js';
import type { TargetHost } from '../targets/host.js';
import { BootProfileReconciler } from './bootprofile/reconciler.js';
import { HypervisorReconciler, HYPERVISOR_INDEX } from './hypervisor/reconciler.js';
import { hypervisorOfVm, watchHypervisors } from './hypervisor/watches.js';
import { IsoAttachmentReconciler } from './isoattachment/reconciler.js';
import { watchIsoAttachments } from './isoattachment/watches.js';
import { VerifiedVolumes } from './isoattachment/verified-sources.js';
import { IdleCollection } from './idle-collection.js';
import { VirtualMachineReconciler } from './virtualmachine/reconciler.js';
import { TEARDOWN_INDEX, teardownNamespace } from './virtualmachine/teardown.js';
import { VM_INDEX, vmOfAttachment, watchVirtualMachines } from './virtualmachine/watches.js';
import { NodeBootAssignmentReconciler } from './nodebootassignment/reconciler.js';
import { watchBootObjects } from './nodebootassignment/watches.js';
import { DisklessSessionReconciler } from './disklesssession/reconciler.js';
import { watchDisklessSessions } from './disklesssession/watches.js';

export interface ControllerDeps {
  sources: ReadonlyMap<string, ObjectSource>;
  store: ResourceStore;
  drivers: DriverPool;
  /** concurrency per controller, the shutdown grace, and the boot server's public URL (script hashes in status). */
  config: Pick<ControllerConfig, 'concurrency' | 'shutdownGraceSeconds' | 'bootAdvertiseUrl'>;
  log: Logger;
  /**
   * This process as an iSCSI target host (--diskless-target), or undefined. Its tgtd runs while
   * this replica leads, like the controllers: one replica publishes the targets.
   */
  targetHost?: TargetHost;
}

export interface BootplaneControllers {
  /** Builds and starts every controller and enqueues every object once (level-based). */
  start(): void;
  /** Stops taking work and waits for in-flight reconciles, up to the grace period. */
  stop(): Promise<void>;
  readonly running: boolean;
}

export function setUpControllers(deps: ControllerDeps): BootplaneControllers {
  const source = (kind: string) => {
    const s = deps.sources.get(kind);
    if (!s) throw new Error(`no source for ${kind}`);
    return s;
  };
  source('VirtualMachine').cache.addIndex(HYPERVISOR_INDEX, hypervisorOfVm);
  source('IsoAttachment').cache.addIndex(VM_INDEX, vmOfAttachment);
  source('VirtualMachine').cache.addIndex(TEARDOWN_INDEX, teardownNamespace);
  addBootIndexes(source('NodeBootAssignment').cache, source('BootProfile').cache);
  addSessionIndexes(source('DisklessSession').cache);
  countDisklessPhasesFrom(function* phases() {
    for (const s of source('DisklessSession').cache.list()) yield (s.status as { phase?: string } | undefined)?.phase ?? 'Pending';
  });

  let controllers: Controller[] = [];
  /** This term's verified volumes, for the reconcilers and for what wakes a VM (watches.ts). */
  let verified: VerifiedVolumes | undefined;
  const enqueueTo = (name: string) => (key: string) => controllers.find((c) => c.name === name)?.enqueue(key);
  const pendingIn = (name: string) => (key: string) => controllers.find((c) => c.name === name)?.pending(key) ?? false;
  // Without an advertised URL the script hash in status uses a stand-in server address.
  const bootUrl = deps.config.bootAdvertiseUrl ?? 'http://bootplane.invalid';
  const build = (): Controller[] => {
    const make = (name: string, reconciler: ConstructorParameters<typeof Controller>[0]['reconciler']) =>
      new Controller({ name, reconciler, concurrency: deps.config.concurrency, logger: deps.log });
    // Named ISO volumes the IsoAttachment reconciler found and the VM may attach before the
    // attachment's status says so (one status write per attach; see verified-sources.ts).
    verified = new VerifiedVolumes();
    const isoAttachments = new IsoAttachmentReconciler(deps.store, deps.drivers, enqueueTo('isoattachment'), enqueueTo('virtualmachine'), verified, pendingIn('virtualmachine'));
    return [
      make('hypervisor', new HypervisorReconciler(deps.store, deps.drivers, enqueueTo('hypervisor'))),
      make('nodebootassignment', new NodeBootAssignmentReconciler(deps.store, bootUrl)),
      make('bootprofile', new BootProfileReconciler(deps.store, bootUrl)),
      make('virtualmachine', new VirtualMachineReconciler(deps.store, deps.drivers, enqueueTo('virtualmachine'), verified, (vmKey) => isoAttachments.vmTurnEnded(vmKey))),
      make('isoattachment', isoAttachments),
      make('disklesssession', new DisklessSessionReconciler(deps.store, deps.targetHost)),
    ];
  };
  // Which kind each controller reconciles, for the initial enqueue of a new term.
  const primaryKind: Record<string, string> = { hypervisor: 'Hypervisor', nodebootassignment: 'NodeBootAssignment', bootprofile: 'BootProfile', virtualmachine: 'VirtualMachine', isoattachment: 'IsoAttachment', disklesssession: 'DisklessSession' };

  watchHypervisors(enqueueTo('hypervisor'), source('Hypervisor'), source('VirtualMachine'));
  watchVirtualMachines(enqueueTo('virtualmachine'), deps.store, source('VirtualMachine'), source('IsoAttachment'), source('Hypervisor'), source('NodeBootAssignment'), () => verified);
  watchIsoAttachments(enqueueTo('isoattachment'), deps.store, source('IsoAttachment'), source('VirtualMachine'));
  watchBootObjects(enqueueTo('nodebootassignment'), enqueueTo('bootprofile'), source('NodeBootAssignment'), source('BootProfile'), source('VirtualMachine'));
  watchDisklessSessions(enqueueTo('disklesssession'), source('DisklessSession'), source('NodeBootAssignment'), deps.targetHost);

  // A burst leaves the V8 heap at the size it needed: one full collection once the queues drain.
  const idleCollection = new IdleCollection(() => controllers);

  return {
    get running() { return controllers.length > 0; },
    start() {
      // Sessions wait (TargetDaemonStarting) until tgtd is up; its start enqueues them all.
      deps.targetHost?.start().catch((err: unknown) => deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'the diskless target host did not start'));
      controllers = build();
      for (const c of controllers) {
        c.start();
        for (const key of source(primaryKind[c.name]!).cache.keys()) c.enqueue(key);
      }
      idleCollection.start();
    },
    async stop() {
      idleCollection.stop();
      const stopping = controllers;
      controllers = [];
      await Promise.all(stopping.map((c) => c.stop(deps.config.shutdownGraceSeconds * 1000)));
      await deps.targetHost?.stop();
    },
  };
}
