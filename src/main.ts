// Composition root: config -> clients -> informers -> store -> drivers -> controllers -> servers.
// Informers and the servers run in every replica; controllers only while this replica leads.
import type { Logger } from 'pino';
import { KINDS } from './api/v1alpha1/kinds.js';
import { startBootServer } from './boot/start.js';
import { clusterMode, startConsole } from './console/start.js';
import type { ControllerConfig } from './config/config.js';
import { setUpControllers } from './controllers/index.js';
import { DriverPool } from './hypervisors/pool.js';
import { defaultDriverRegistry } from './hypervisors/registry.js';
import { KubeClient } from './kube/client.js';
import { EventRecorder } from './kube/events.js';
import { Informer } from './kube/informer.js';
import { LeaderElector } from './kube/leader-election.js';
import type { KubeObject } from './kube/object.js';
import { bootplaneResource } from './kube/resources.js';
import { StatusWriter } from './kube/status-writer.js';
import { startObservabilityServers } from './observability/health.js';
import { collectProcessMetrics } from './observability/metrics.js';
import { createTargetHost } from './targets/host.js';
import { KubeStore } from './store/kube-store.js';

export interface RunningController {
  readonly isLeader: () => boolean;
  readonly ready: () => boolean;
  stop(): Promise<void>;
}

export async function runController(config: ControllerConfig, log: Logger): Promise<RunningController> {
  collectProcessMetrics();
  const client = await KubeClient.create({ kubeconfigPath: config.kubeconfig, context: config.context });
  log.info({ server: client.serverUrl, identity: config.identity }, 'starting bootplane controller');

  const informers = new Map<string, Informer<KubeObject>>();
  for (const info of KINDS) {
    informers.set(info.kind, new Informer<KubeObject>(client, bootplaneResource(info.kind), {
      resyncMs: config.resyncSeconds * 1000,
      watchdogMs: config.watchdogSeconds * 1000,
      logger: log,
    }));
  }

  const events = new EventRecorder(client, 'bootplane.io/controller', config.identity, log);
  const store = new KubeStore(client, informers, new StatusWriter(client), events, log);
  const drivers = new DriverPool(defaultDriverRegistry());
  const controllers = setUpControllers({ sources: informers, store, drivers, config, log, targetHost: createTargetHost(config, log) });

  for (const i of informers.values()) i.start();
  const ready = () => [...informers.values()].every((i) => i.hasSynced);

  const servers = await startObservabilityServers(config, ready);

  await Promise.all([...informers.values()].map((i) => i.waitForSync()));
  // The boot server answers from the synced caches in every replica, leader or not.
  const boot = await startBootServer(config, store, log, informers.get('NodeBootAssignment')!);
  // The web console, too: people sign in with their own tokens and act with their own RBAC.
  const webConsole = await startConsole(config, informers, clusterMode(client), boot.server, log);

  let elector: LeaderElector | undefined;
  if (config.leaderElect) {
    elector = new LeaderElector(client, {
      namespace: config.leaseNamespace,
      name: config.leaseName,
      identity: config.identity,
      leaseDurationMs: config.leaseDurationSeconds * 1000,
      renewDeadlineMs: config.renewDeadlineSeconds * 1000,
      retryPeriodMs: config.retryPeriodSeconds * 1000,
      logger: log,
      onStartedLeading: () => controllers.start(),
      onStoppedLeading: () => void controllers.stop(),
    });
    elector.start();
  } else {
    controllers.start();
  }

  return {
    isLeader: () => (elector ? elector.isLeader : true),
    ready,
    async stop() {
      log.info('shutting down: finishing in-flight reconciles');
      await controllers.stop();
      await elector?.stop();
      await boot.stop();
      await webConsole?.stop();
      await Promise.all([...informers.values()].map((i) => i.stop()));
      await store.stop();
      await drivers.closeAll();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      await client.close();
      log.info('stopped');
    },
  };
}
