#!/usr/bin/env node
// bootplane command line. Exit codes: 0 success, 1 runtime failure, 2 usage error,
// 3 a plan request refused (bootplane plan).
import { readFileSync } from 'node:fs';
import { controller, CONTROLLER_USAGE } from './controller.js';
import { standalone, STANDALONE_USAGE } from './standalone.js';
import { RENDER_DHCP_USAGE, renderDhcp, UsageError } from './render-dhcp.js';
import { tftp, TFTP_USAGE, TftpUsageError } from './tftp.js';
import { describe, DESCRIBE_USAGE } from './describe.js';
import { get, GET_USAGE } from './get.js';
import { PLAN_USAGE, runPlan } from './plan.js';
import { migrate, MIGRATE_USAGE } from './migrate.js';

const USAGE = `bootplane — owns how machines boot

Usage:
  bootplane controller [flags]   run the operator against a Kubernetes API server
  bootplane render dhcp [flags]  print DHCP configuration for network boot (MikroTik, dnsmasq, ISC, Kea)
  bootplane tftp [flags]         serve the TFTP first hop (iPXE binaries, chain script) on its own
  bootplane standalone --dir D   run the same reconcilers and boot server over a directory of manifests
  bootplane get [kind] --dir D   list objects of a standalone site, like kubectl get
  bootplane describe K/N --dir D spec, status, conditions and Events of one object
  bootplane plan proxmox [flags] print what bootplane would change on a VM (reads its config JSON)
  bootplane plan libvirt [flags] the same for a libvirt domain (reads virsh dumpxml output)
  bootplane migrate cloud-init   list (--dry-run) or move cloud-init drives off buses their OS does not prefer
  bootplane version              print the version
  bootplane help [command]       show help

Run 'bootplane help controller' or 'bootplane help plan' for their flags.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
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
    case 'standalone':
      if (rest.includes('--help') || rest.includes('-h')) return void process.stdout.write(STANDALONE_USAGE), 0;
      return standalone(rest);
    case 'get':
      if (rest.includes('--help') || rest.includes('-h')) return void process.stdout.write(GET_USAGE), 0;
      return get(rest);
    case 'migrate':
      if (rest.includes('--help') || rest.includes('-h')) return void process.stdout.write(MIGRATE_USAGE), 0;
      return migrate(rest);
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
    case 'plan':
      return runPlan(rest, {
        readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
      });
    case 'version':
    case '--version':
      process.stdout.write(`bootplane ${version()}\n`);
      return 0;
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      process.stdout.write(rest[0] === 'controller' ? CONTROLLER_USAGE : rest[0] === 'plan' ? PLAN_USAGE : USAGE);
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
