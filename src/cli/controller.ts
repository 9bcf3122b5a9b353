// `bootplane controller`: the operator against a Kubernetes API server. Its flags (and their
// BOOTPLANE_* environment forms) are shared with `bootplane standalone`.
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { fromEnvironment, parseControllerConfig, ControllerConfig } from '../config/config.js';
import { runController } from '../main.js';
import { createLogger } from '../observability/logger.js';

export const CONTROLLER_USAGE = `bootplane controller — reconcile bootplane.io resources

Flags (each also read from BOOTPLANE_<NAME>, for example BOOTPLANE_METRICS_ADDR):
  --kubeconfig PATH              kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --context NAME                 kubeconfig context
  --metrics-addr HOST:PORT       Prometheus metrics (default :8080; port 0 disables)
  --health-addr HOST:PORT        /healthz and /readyz (default :8081; port 0 disables)
  --leader-elect true|false      elect a leader through a Lease (default true)
  --lease-namespace NS           namespace of the Lease (default bootplane-system)
  --lease-name NAME              name of the Lease (default bootplane-controller)
  --identity ID                  this replica's identity (default host_pid)
  --concurrency N                reconciles in parallel per controller (default 4)
  --resync-seconds N             full resync period (default 600)
  --watchdog-seconds N           relist a watch silent for this long (default 300)
  --shutdown-grace-seconds N     time for in-flight reconciles on SIGTERM (default 10)
  --log-level LEVEL              trace, debug, info, warn, error (default info)

Network boot (served by every replica):
  --boot-addr HOST:PORT          iPXE/asset HTTP server (default :8082; port 0 disables)
  --boot-advertise-url URL       how machines reach it, e.g. http://192.0.2.1:8082 (default: the request's Host)
  --boot-fallback menu|localBoot unknown machines get a menu of public profiles or local boot (default menu)
  --boot-allow-cidrs LIST        comma-separated CIDRs allowed to use it (default: everyone)
  --boot-rate-limit-per-second N per client IP (default 50; 0 disables)
  --boot-rate-limit-burst N      per client IP (default 200)
  --boot-max-concurrent N        requests in flight (default 512)
  --boot-signing-key-file PATH   HMAC key for /ignition and /cloud-config URLs (default: random per process)
  --boot-signed-url-ttl-seconds N  lifetime of those URLs (default 900)
  --boot-asset-dir DIR           directory for assets given by path
  --boot-asset-cache-dir DIR     cache for assets given by URL (default /var/cache/bootplane/assets)
  --boot-asset-cache-max-mib N   cache bound in MiB (default 4096)
  --boot-status-flush-ms N       how often observed boots are written to status (default 1000)
  --tftp-addr HOST:PORT          TFTP first hop (default off)
  --tftp-dir DIR                 iPXE binaries for TFTP (default /usr/lib/ipxe)

Web console (served by every replica; people sign in with their own Kubernetes token):
  --console-addr HOST:PORT       console HTTP server (default :8083; port 0 disables)
  --console-token TOKEN          standalone only: the sign-in token (default random, printed at
                                 start; prefer BOOTPLANE_CONSOLE_TOKEN, which ps does not show)
`;

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Parses the controller's flags (plus any extra string flags a command adds), environment
 * first, flags over it.
 */
export function readConfigFlags(args: string[], extra: string[] = [], defaults: Record<string, unknown> = {}): { config: ControllerConfig; extra: Record<string, string | undefined> } {
  const options: Record<string, { type: 'string' }> = {};
  for (const key of Object.keys(ControllerConfig.shape)) options[key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = { type: 'string' };
  for (const flag of extra) options[flag] = { type: 'string' };
  const { values } = parseArgs({ args, options, strict: true });
  const raw: Record<string, unknown> = { ...defaults, ...fromEnvironment(process.env) };
  const extras: Record<string, string | undefined> = {};
  for (const [flag, value] of Object.entries(values)) {
    if (extra.includes(flag)) extras[flag] = value as string;
    else raw[camel(flag)] = value;
  }
  return { config: parseControllerConfig(raw), extra: extras };
}

/** Waits for SIGTERM or SIGINT, then stops within the grace period or exits hard. */
export async function runUntilSignal(log: Logger, graceSeconds: number, stop: () => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      log.info({ signal }, 'signal received');
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  const hardStop = setTimeout(() => {
    log.error('shutdown took too long; exiting');
    process.exit(1);
  }, (graceSeconds + 5) * 1000);
  hardStop.unref();
  await stop();
}

export async function controller(args: string[]): Promise<number> {
  const { config } = readConfigFlags(args);
  const log = createLogger({ level: config.logLevel });
  const running = await runController(config, log);
  await runUntilSignal(log, config.shutdownGraceSeconds, () => running.stop());
  return 0;
}

