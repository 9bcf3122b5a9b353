// Composition root of standalone mode: the same controllers, planner, drivers and boot server
// as in a cluster, over a directory of manifests instead of an API server. One process, so no
// leader election; status, finalizers and Events are kept beside the manifests.
import type { Logger } from 'pino';
import { startBootServer, type RunningBootServer } from './boot/start.js';
import { standaloneMode, startConsole, type RunningConsole } from './console/start.js';
import type { ControllerConfig } from './config/config.js';
import { setUpControllers } from './controllers/index.js';
import type { DriverRegistry } from './hypervisors/driver.js';
import { DriverPool } from './hypervisors/pool.js';
import { defaultDriverRegistry } from './hypervisors/registry.js';
import { startObservabilityServers } from './observability/health.js';
import { collectProcessMetrics } from './observability/metrics.js';
import { createTargetHost } from './targets/host.js';
import { DirStore } from './store/dir-store.js';

export interface RunningStandalone {
  store: DirStore;
  boot: RunningBootServer;
  /** The web console, unless --console-addr has port 0. */
  console: RunningConsole | undefined;
  stop(): Promise<void>;
}

export async function runStandalone(dir: string, config: ControllerConfig, log: Logger, registry: DriverRegistry = defaultDriverRegistry()): Promise<RunningStandalone> {
  collectProcessMetrics();
  const store = new DirStore(dir, log.child({ component: 'site' }));
  const drivers = new DriverPool(registry);
  const controllers = setUpControllers({ sources: store.sources, store, drivers, config, log, targetHost: createTargetHost(config, log) });
  store.start();
  log.info({ dir, objects: [...store.sources.values()].reduce((n, s) => n + s.cache.size, 0), problems: store.problems.length }, 'standalone site loaded');

  const servers = await startObservabilityServers(config, () => true);
  const boot = await startBootServer(config, store, log, store.source('NodeBootAssignment'));
  const webConsole = await startConsole(config, store.sources, standaloneMode(store, config.consoleToken ?? process.env.BOOTPLANE_CONSOLE_TOKEN), boot.server, log);
  controllers.start();

  return {
    store,
    boot,
    console: webConsole,
    async stop() {
      log.info('shutting down: finishing in-flight reconciles');
      await controllers.stop();
      store.stop();
      await boot.stop();
      await webConsole?.stop();
      await drivers.closeAll();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      log.info('stopped');
    },
  };
}
