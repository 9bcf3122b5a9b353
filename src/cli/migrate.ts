// `bootplane migrate cloud-init`: finds VMs whose cloud-init drive sits on a bus their OS family
// does not prefer and, without --dry-run, moves them one at a time. The controller never writes
// spec; this command is the user's tool and does: it sets spec.cloudInit.placement to auto on the
// VirtualMachine (a merge patch in a cluster, the manifest file in a standalone site), waits for
// the controller to move the drive, and puts the old placement back if the move does not happen.
import { readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { VirtualMachine } from '../api/v1alpha1/virtual-machine.js';
import { KubeClient } from '../kube/client.js';
import { bootplaneResource, collectionPath, objectPath } from '../kube/resources.js';
import { silentLogger } from '../observability/logger.js';
import { cloudInitPreference } from '../planning/cloud-init-preference.js';
import type { MachineFacts } from '../planning/model.js';
import { DirStore } from '../store/dir-store.js';
import { byCodeUnits } from '../order.js';

export const MIGRATE_USAGE = `bootplane migrate cloud-init [--dry-run] [--selector k=v,...] [-n NAMESPACE]
                             [--allow-running] [--timeout SECONDS] [--kubeconfig PATH | --dir DIR]

Lists VirtualMachines whose cloud-init drive is on a bus their OS family does not prefer on their
machine (the planner's table: Debian/Ubuntu SCSI, RHEL/Fedora IDE, UEFI not IDE, aarch64 no IDE).
Without --dry-run it moves them one at a time by setting spec.cloudInit.placement: auto and
waiting (--timeout, default 300) for the controller to move the drive; a VM that does not move
gets its old placement back. Only stopped VMs are moved unless --allow-running. VMs without
spec.cloudInit (bootplane does not own their drive's content) or with an explicit bus are left.
In a cluster it uses KUBECONFIG (or --kubeconfig); with --dir it edits a standalone site's
manifests, which a running 'bootplane standalone' then applies.
`;

/** Where the VMs live: the API server or a standalone site. */
interface Site {
  list(): Promise<VirtualMachine[]>;
  get(vm: VirtualMachine): Promise<VirtualMachine | undefined>;
  setPlacement(vm: VirtualMachine, placement: string): Promise<void>;
  close(): Promise<void>;
}

export interface Candidate {
  vm: VirtualMachine;
  slot: string;
  preferred?: string;
  /** Why it is not moved; undefined for a VM to move. */
  skip?: string;
}

const key = (vm: VirtualMachine) => `${vm.metadata.namespace ?? 'default'}/${vm.metadata.name}`;

function machineOf(vm: VirtualMachine): MachineFacts {
  const h = vm.spec.hardware;
  return { machine: h?.machine ?? 'pc', arch: h?.arch ?? 'x86_64', firmware: h?.firmware ?? 'bios' };
}

/** The VMs with a cloud-init drive off their family's preferred bus, with what the command will do to each. */
export function findCandidates(vms: readonly VirtualMachine[], allowRunning: boolean): Candidate[] {
  const out: Candidate[] = [];
  for (const vm of vms) {
    const slot = vm.status?.cloudInitSlot;
    const family = vm.status?.osFamily ?? vm.spec.osFamily;
    if (!slot || !family) continue;
    const verdict = cloudInitPreference(family, machineOf(vm), slot);
    if (verdict.verdict !== 'misplaced') continue;
    const c: Candidate = { vm, slot, preferred: verdict.preferred };
    const placement = vm.spec.cloudInit?.placement ?? 'keep';
    if (!vm.spec.cloudInit) c.skip = 'no spec.cloudInit: bootplane does not own this drive\'s content';
    else if (placement !== 'keep' && placement !== 'auto') c.skip = `spec.cloudInit.placement is ${placement} (chosen by hand)`;
    else if (vm.status?.power !== 'Stopped' && !allowRunning) c.skip = `${vm.status?.power ?? 'power unknown'} (stop it, or pass --allow-running)`;
    out.push(c);
  }
  return out.sort((a, b) => byCodeUnits(key(a.vm), key(b.vm)));
}

export async function migrate(args: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean' }, selector: { type: 'string', short: 'l' }, namespace: { type: 'string', short: 'n' },
      'allow-running': { type: 'boolean' }, timeout: { type: 'string' }, kubeconfig: { type: 'string' }, dir: { type: 'string' },
    },
  });
  if (positionals[0] !== 'cloud-init') {
    process.stderr.write(`bootplane migrate: unknown target ${JSON.stringify(positionals[0] ?? '')}\n\n${MIGRATE_USAGE}`);
    return 2;
  }
  const timeoutMs = Number(values.timeout ?? 300) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    process.stderr.write(`bootplane migrate: --timeout must be a positive number of seconds\n`);
    return 2;
  }
  const selector = parseSelector(values.selector);
  if (selector === undefined) {
    process.stderr.write(`bootplane migrate: --selector takes key=value pairs separated by commas\n`);
    return 2;
  }
  const site = values.dir ? standaloneSite(values.dir) : await clusterSite(values.kubeconfig);
  try {
    const vms = (await site.list()).filter((vm) => (!values.namespace || vm.metadata.namespace === values.namespace) && matches(vm, selector));
    const candidates = findCandidates(vms, values['allow-running'] ?? false);
    if (candidates.length === 0) {
      out(`Every cloud-init drive among ${vms.length} VirtualMachine(s) is on its preferred bus.\n`);
      return 0;
    }
    out(table(candidates));
    if (values['dry-run']) {
      out(`\nDry run: ${candidates.filter((c) => !c.skip).length} to move, ${candidates.filter((c) => c.skip).length} left as they are.\n`);
      return 0;
    }
    const lines: string[] = [];
    let failed = 0;
    for (const c of candidates) {
      if (c.skip) {
        lines.push(`skipped ${key(c.vm)}: ${c.skip}`);
        continue;
      }
      const result = await moveOne(site, c, timeoutMs);
      if (!result.ok) failed++;
      lines.push(result.line);
      out(`${result.line}\n`);
    }
    const moved = lines.filter((l) => l.startsWith('moved')).length;
    out(`\nSummary: ${moved} moved, ${failed} not moved (placement restored), ${lines.filter((l) => l.startsWith('skipped')).length} skipped.\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    return failed > 0 ? 1 : 0;
  } finally {
    await site.close();
  }
}

/** Sets placement auto, waits for the drive to reach the preferred bus, restores the old placement if it does not. */
async function moveOne(site: Site, c: Candidate, timeoutMs: number): Promise<{ ok: boolean; line: string }> {
  const previous = c.vm.spec.cloudInit?.placement ?? 'keep';
  if (previous !== 'auto') await site.setPlacement(c.vm, 'auto');
  const deadline = Date.now() + timeoutMs;
  let why = `no move within ${timeoutMs / 1000}s`;
  for (;;) {
    const now = await site.get(c.vm);
    const slot = now?.status?.cloudInitSlot;
    if (slot && slot.replace(/\d+$/, '') === c.preferred) return { ok: true, line: `moved ${key(c.vm)}: cloud-init ${c.slot} -> ${slot}` };
    const media = now?.status?.conditions?.find((x) => x.type === 'MediaConfigured');
    const fresh = (now?.status?.observedGeneration ?? 0) >= (now?.metadata.generation ?? 0);
    if (fresh && media?.status === 'False' && ['WaitingForPowerOff', 'PlanRefused', 'ApplyFailed', 'RolledBack', 'SafeMode'].includes(media.reason)) {
      why = `${media.reason}: ${media.message}`;
      break;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (previous !== 'auto') await site.setPlacement(c.vm, previous);
  return { ok: false, line: `not moved ${key(c.vm)} (cloud-init stays at ${c.slot}, placement back to ${previous}): ${why}` };
}

function table(candidates: readonly Candidate[]): string {
  const rows = [['NAMESPACE', 'NAME', 'OS', 'POWER', 'CLOUD-INIT', 'PREFERRED', 'ACTION']];
  for (const c of candidates) {
    rows.push([c.vm.metadata.namespace ?? 'default', c.vm.metadata.name, c.vm.status?.osFamily ?? c.vm.spec.osFamily ?? '', c.vm.status?.power ?? '', c.slot, c.preferred ?? '', c.skip ? `skip: ${c.skip}` : 'move']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('   ')).join('\n') + '\n';
}

function parseSelector(text: string | undefined): Record<string, string> | undefined {
  if (!text) return {};
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const m = /^([^=\s]+)=([^=\s]*)$/.exec(part.trim());
    if (!m) return undefined;
    out[m[1]!] = m[2]!;
  }
  return out;
}

function matches(vm: VirtualMachine, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => vm.metadata.labels?.[k] === v);
}

async function clusterSite(kubeconfigPath: string | undefined): Promise<Site> {
  const client = await KubeClient.create(kubeconfigPath ? { kubeconfigPath } : {});
  const type = bootplaneResource('VirtualMachine');
  return {
    list: async () => (await client.request<{ items: VirtualMachine[] }>(collectionPath(type))).items,
    get: (vm) => client.request<VirtualMachine>(objectPath(type, vm.metadata.namespace, vm.metadata.name)),
    setPlacement: async (vm, placement) => {
      await client.request(objectPath(type, vm.metadata.namespace, vm.metadata.name), {
        method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { cloudInit: { placement } } },
      });
    },
    close: () => client.close(),
  };
}

/** A standalone site: manifests are edited in place (other documents and comments kept), status read from .status/. */
function standaloneSite(dir: string): Site {
  const store = new DirStore(dir, silentLogger(), 0, true);
  store.rescan();
  return {
    list: () => Promise.resolve([...store.list<VirtualMachine>('VirtualMachine')]),
    get: (vm) => {
      store.rescan();
      return Promise.resolve(store.get<VirtualMachine>('VirtualMachine', key(vm)));
    },
    setPlacement: (vm, placement) => {
      const file = store.manifestFile('VirtualMachine', vm);
      if (!file) throw new Error(`the manifest of VirtualMachine ${key(vm)} was not found under ${dir}`);
      const path = isAbsolute(file) ? file : join(dir, file);
      writeFileSync(path, withPlacement(readFileSync(path, 'utf8'), vm, placement));
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

/** The manifest text with the VM's spec.cloudInit.placement set; other documents, comments and order kept. */
export function withPlacement(text: string, vm: Pick<VirtualMachine, 'metadata'>, placement: string): string {
  const docs = parseAllDocuments(text);
  const doc = docs.find((d) => {
    const o = d.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
    return o?.kind === 'VirtualMachine' && o.metadata?.name === vm.metadata.name && (o.metadata?.namespace ?? 'default') === (vm.metadata.namespace ?? 'default');
  });
  if (!doc) throw new Error(`VirtualMachine ${vm.metadata.namespace ?? 'default'}/${vm.metadata.name} is not in the manifest`);
  doc.setIn(['spec', 'cloudInit', 'placement'], placement);
  return docs.map((d) => d.toString()).join('');
}
