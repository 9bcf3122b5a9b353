// `bootplane standalone --dir ./site`: the same controllers, planner, drivers and boot server
// over a directory of manifests, with no Kubernetes API server at all.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { prepareLocalHypervisor, type LocalChoice } from '../embedded/local-hypervisor.js';
import { converged, summary } from '../embedded/summary.js';
import { createLogger } from '../observability/logger.js';
import { runStandalone } from '../standalone.js';
import { readConfigFlags, runUntilSignal } from './controller.js';

export const STANDALONE_USAGE = `bootplane standalone --dir DIR [flags]

Reconciles the manifests in DIR (the YAML you would kubectl apply: multi-document files, nested
folders) without a cluster. Edits, additions and deletions are picked up as they happen; status,
finalizers and Events are kept in DIR/.status/. Inspect with 'bootplane get --dir DIR' and
'bootplane describe <kind>/<name> --dir DIR'.

Takes the controller's flags where they apply (see 'bootplane help controller'): --boot-*,
--tftp-*, --concurrency, --log-level, --metrics-addr, --health-addr and --console-addr (all loopback by
default here). Boot assets are cached in DIR/.cache/assets unless --boot-asset-cache-dir is set.

  --local-hypervisor auto|libvirt|simulator
      the embedded default (what \`npm start\` runs): write DIR/local-hypervisor.yaml for the local
      libvirt daemon when one answers (auto), else start the Proxmox VE simulator in this process,
      and print a summary of what converged and the URLs to try.
`;

export async function standalone(args: string[]): Promise<number> {
  const dirIndex = args.indexOf('--dir');
  const dirArg = dirIndex >= 0 ? args[dirIndex + 1] : undefined;
  if (!dirArg || !existsSync(dirArg) || !statSync(dirArg).isDirectory()) {
    process.stderr.write(`bootplane standalone: --dir must name a directory of manifests\n\n${STANDALONE_USAGE}`);
    return 2;
  }
  const dir = resolve(dirArg);
  const { config, extra } = readConfigFlags(args, ['dir', 'local-hypervisor'], {
    metricsAddr: '127.0.0.1:8080',
    healthAddr: '127.0.0.1:8081',
    consoleAddr: '127.0.0.1:8083',
    bootAssetCacheDir: join(dir, '.cache', 'assets'),
    leaderElect: 'false',
  });
  const log = createLogger({ level: config.logLevel });
  const choice = extra['local-hypervisor'] as LocalChoice | undefined;
  if (choice !== undefined && !['auto', 'libvirt', 'simulator'].includes(choice)) {
    process.stderr.write(`bootplane standalone: --local-hypervisor must be auto, libvirt or simulator\n`);
    return 2;
  }
  const local = choice ? await prepareLocalHypervisor(choice, log) : undefined;
  if (local) writeFileSync(join(dir, 'local-hypervisor.yaml'), local.manifests);
  const running = await runStandalone(dir, config, log);
  // The sign-in URL goes to the terminal, not the log: it carries the console's token.
  if (running.console) process.stderr.write(`bootplane console: ${running.console.url}/?token=${running.console.token}\n`);
  if (local) void announce(running.store, dir, config.bootAdvertiseUrl ?? `http://${config.bootAddr.startsWith(':') ? '127.0.0.1' : config.bootAddr}`, local.description);
  await runUntilSignal(log, config.shutdownGraceSeconds, async () => {
    await running.stop();
    await local?.stop();
  });
  return 0;
}

/** Prints the summary once everything has a verdict, or after a minute, whichever is first. */
async function announce(store: Parameters<typeof converged>[0], dir: string, bootUrl: string, hypervisor: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!converged(store) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  process.stderr.write(summary(store, dir, bootUrl, hypervisor));
}
