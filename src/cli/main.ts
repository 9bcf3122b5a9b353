#!/usr/bin/env node
// bootplane command line. Exit codes: 0 success, 1 runtime failure, 2 usage error.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { fromEnvironment, parseControllerConfig, ControllerConfig } from '../config/config.js';
import { runController } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { RENDER_DHCP_USAGE, renderDhcp, UsageError } from './render-dhcp.js';
import { tftp, TFTP_USAGE, TftpUsageError } from './tftp.js';
import { describe, DESCRIBE_USAGE } from './describe.js';
import { get, GET_USAGE } from './get.js';

const USAGE = `bootplane — owns how machines boot

Usage:
  bootplane controller [flags]   run the operator against a Kubernetes API server
  bootplane render dhcp [flags]  print DHCP configuration for network boot (MikroTik, dnsmasq, ISC, Kea)
  bootplane tftp [flags]         serve the TFTP first hop (iPXE binaries, chain script) on its own
  bootplane get [kind] --dir D   list objects of a standalone site, like kubectl get
  bootplane describe K/N --dir D spec, status, conditions and Events of one object
  bootplane version              print the version
  bootplane help [command]       show help

Run 'bootplane help controller' for the controller's flags.
`;

const CONTROLLER_USAGE = `bootplane controller — reconcile bootplane.io resources

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
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

async function controller(args: string[]): Promise<number> {
  const options: Record<string, { type: 'string' }> = {};
  for (const key of Object.keys(ControllerConfig.shape)) options[key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = { type: 'string' };
  const { values } = parseArgs({ args, options, strict: true });
  const raw: Record<string, unknown> = fromEnvironment(process.env);
  for (const [flag, value] of Object.entries(values)) raw[camel(flag)] = value;
  const config = parseControllerConfig(raw);
  const log = createLogger({ level: config.logLevel });
  const running = await runController(config, log);
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
  }, (config.shutdownGraceSeconds + 5) * 1000);
  hardStop.unref();
  await running.stop();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'controller':
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(CONTROLLER_USAGE);
        return 0;
      }
      return controller(rest);
    case 'render':
      if (rest[0] !== 'dhcp' || rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(RENDER_DHCP_USAGE);
        return rest[0] === 'dhcp' ? 0 : 2;
      }
      try {
        await renderDhcp(rest.slice(1), (text) => process.stdout.write(text));
        return 0;
      } catch (err) {
        if (!(err instanceof UsageError) && !(err instanceof TypeError && 'code' in err)) throw err;
        process.stderr.write(`bootplane render dhcp: ${err.message}\n`);
        return 2;
      }
    case 'get':
      if (rest.includes('--help') || rest.includes('-h')) return void process.stdout.write(GET_USAGE), 0;
      return get(rest);
    case 'describe':
      if (rest.includes('--help') || rest.includes('-h')) return void process.stdout.write(DESCRIBE_USAGE), 0;
      return describe(rest);
    case 'tftp':
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(TFTP_USAGE);
        return 0;
      }
      try {
        return await tftp(rest);
      } catch (err) {
        if (!(err instanceof TftpUsageError) && !(err instanceof TypeError && 'code' in err)) throw err;
        process.stderr.write(`bootplane tftp: ${err.message}\n`);
        return 2;
      }
    case 'version':
    case '--version':
      process.stdout.write(`bootplane ${version()}\n`);
      return 0;
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      process.stdout.write(rest[0] === 'controller' ? CONTROLLER_USAGE : USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`bootplane: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bootplane: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
