// `bootplane standalone --dir ./site`: the same controllers, planner, drivers and boot server
// over a directory of manifests, with no Kubernetes API server at all.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger } from '../observability/logger.js';
import { runStandalone } from '../standalone.js';
import { readConfigFlags, runUntilSignal } from './controller.js';

export const STANDALONE_USAGE = `bootplane standalone --dir DIR [flags]

Reconciles the manifests in DIR (the YAML you would kubectl apply: multi-document files, nested
folders) without a cluster. Edits, additions and deletions are picked up as they happen; status,
finalizers and Events are kept in DIR/.status/. Inspect with 'bootplane get --dir DIR' and
'bootplane describe <kind>/<name> --dir DIR'.

Takes the controller's flags where they apply (see 'bootplane help controller'): --boot-*,
--tftp-*, --concurrency, --log-level, --metrics-addr and --health-addr (both loopback by
default here). Boot assets are cached in DIR/.cache/assets unless --boot-asset-cache-dir is set.
`;

export async function standalone(args: string[]): Promise<number> {
  const dirIndex = args.indexOf('--dir');
  const dirArg = dirIndex >= 0 ? args[dirIndex + 1] : undefined;
  if (!dirArg || !existsSync(dirArg) || !statSync(dirArg).isDirectory()) {
    process.stderr.write(`bootplane standalone: --dir must name a directory of manifests\n\n${STANDALONE_USAGE}`);
    return 2;
  }
  const dir = resolve(dirArg);
  const { config } = readConfigFlags(args, ['dir'], {
    metricsAddr: '127.0.0.1:8080',
    healthAddr: '127.0.0.1:8081',
    bootAssetCacheDir: join(dir, '.cache', 'assets'),
    leaderElect: 'false',
  });
  const log = createLogger({ level: config.logLevel });
  const running = await runStandalone(dir, config, log);
  await runUntilSignal(log, config.shutdownGraceSeconds, () => running.stop());
  return 0;
}
