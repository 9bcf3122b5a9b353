// Hypervisor faults against the real control plane and the PVE simulator, each ending in
// convergence with nothing lost or duplicated: calls that never answer (a read, a write that
// never reached PVE, and a write PVE applied whose reply was lost), a VM held locked by a backup
// or snapshot, a create task far slower than a reconcile pass across a controller restart, and
// the system libvirtd restarted while an ISO is being attached to a domain.
// (kube-apiserver, etcd, silent watches and the leader killed mid-task: faults.test.ts.)
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../src/config/config.js';
import type { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import { runController } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { condition, eventually, getJson, kubectl, kubectlOk, uniqueName } from './support/kube.js';
import { KUBECONFIG } from './support/paths.js';
import { minimalDomainXml, removeDomain, virsh, virshOk } from './support/libvirt.js';
import { TOKEN_SECRET, useProxmoxSite } from './support/proxmox.js';

let sim: PveSimulator;
let ns: string;
let hv: string;
let nextVmid = 800;

const held = useProxmoxSite('faults2', (sim) => {
  for (const iso of ['installer.iso', 'rescue.iso']) sim.cluster.addIso(`local:iso/${iso}`);
});
beforeAll(() => {
  ({ sim, ns, hv } = held.site);
});

const apply = (yaml: string) => kubectlOk(['apply', '-f', '-'], yaml);
const vmYaml = (name: string, vmid: number) => `apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: ${vmid}}
  bootOrder: {preset: cdrom_hd}
`;
const isoYaml = (name: string, vm: string, volume: string) => `apiVersion: bootplane.io/v1alpha1
kind: IsoAttachment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  vmRef: {name: ${vm}}
  source: {volume: "${volume}"}
`;

/** A VM whose boot order is already what bootplane wants while no ISO is attached (disk first). */
function addVm(name: string): number {
  const vmid = nextVmid++;
  sim.cluster.addVm({ vmid, node: 'pve1', config: { name, ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=8G`, net0: `virtio=BC:24:11:00:08:${(vmid % 100).toString(16).padStart(2, '0')},bridge=vmbr0`, boot: 'order=scsi0' } });
  return vmid;
}

const configWrites = (vmid: number) => sim.calls.filter((c) => new RegExp(`^(PUT|POST) /nodes/pve1/qemu/${vmid}/config$`).test(c));
const isoSlots = (vmid: number, iso: string) => Object.entries(sim.cluster.vms.get(vmid)!.config).filter(([, v]) => v.startsWith(`${iso},`)).map(([k]) => k);

async function until(kindName: string, type: string, pred: (c: { status: string; reason: string; message: string }) => boolean, what: string, timeoutMs = 90_000) {
  return eventually(async () => {
    const c = await condition(kindName, type, ns);
    return c && pred(c) && c;
  }, what, timeoutMs, 250);
}

async function eventsOf(name: string): Promise<{ reason: string; note: string; type: string }[]> {
  return (JSON.parse(await kubectlOk(['get', 'events.events.k8s.io', '-n', ns, '--field-selector', `regarding.name=${name}`, '-o', 'json'])) as { items: { reason: string; note: string; type: string }[] }).items;
}

/** What a person sees: status and Events of the VM and its ISO. None may hold the token. */
async function expectNoSecret(vm: string, iso: string): Promise<void> {
  const everything = JSON.stringify(await getJson(['get', `vm/${vm}`, `isoattachment/${iso}`, '-n', ns])) + JSON.stringify(await eventsOf(vm)) + JSON.stringify(await eventsOf(iso));
  expect(everything).not.toContain(TOKEN_SECRET);
}

describe('Proxmox calls that never answer', () => {
  it('config reads that hang: the timeout fires, the VM reports it, and it converges once PVE answers', async () => {
    const vmid = addVm('faults2-read');
    // Every read of this VM hangs (GETs are retried by the client, each attempt times out).
    sim.faults.hangCalls({ method: 'GET', path: new RegExp(`/qemu/${vmid}/pending$`), times: 1_000 });
    await apply(vmYaml('faults2-read', vmid));
    await apply(isoYaml('faults2-read-iso', 'faults2-read', 'local:iso/installer.iso'));
    const found = await until('vm/faults2-read', 'VmFound', (c) => c.reason === 'Timeout', 'VmFound Timeout');
    expect(found.status).toBe('Unknown');
    expect(found.message).toMatch(/got no answer within 5000 ms/);
    expect(configWrites(vmid)).toHaveLength(0);
    sim.faults.reset(); // PVE answers again
    await until('isoattachment/faults2-read-iso', 'Attached', (c) => c.status === 'True', 'attached once PVE answers', 120_000);
    expect(isoSlots(vmid, 'local:iso/installer.iso')).toHaveLength(1);
    expect(configWrites(vmid)).toHaveLength(1);
    await expectNoSecret('faults2-read', 'faults2-read-iso');
  });

  it('config writes that never reach PVE: reported, not rolled back, retried with backoff, applied once', async () => {
    const vmid = addVm('faults2-lost');
    const before = { ...sim.cluster.vms.get(vmid)!.config };
    sim.faults.hangCalls({ method: 'PUT', path: new RegExp(`/qemu/${vmid}/config$`), times: 1_000 });
    await apply(vmYaml('faults2-lost', vmid));
    await apply(isoYaml('faults2-lost-iso', 'faults2-lost', 'local:iso/installer.iso'));
    const timedOut = await until('vm/faults2-lost', 'MediaConfigured', (c) => c.reason === 'HypervisorTimeout', 'MediaConfigured HypervisorTimeout');
    expect(timedOut.message).toMatch(/got no answer within 5000 ms/);
    expect(timedOut.message).toMatch(/unknown/);
    // 20 s of silence: each write waits 5 s for its timeout, and the retries back off.
    const writesAtStart = configWrites(vmid).length;
    await new Promise((r) => setTimeout(r, 20_000));
    expect(configWrites(vmid).length - writesAtStart).toBeLessThanOrEqual(3);
    // The hung writes changed nothing, and nothing was "rolled back" over them.
    expect(sim.cluster.vms.get(vmid)!.config).toEqual(before);
    sim.faults.reset();
    await until('isoattachment/faults2-lost-iso', 'Attached', (c) => c.status === 'True', 'attached once PVE answers', 120_000);
    expect(isoSlots(vmid, 'local:iso/installer.iso')).toHaveLength(1);
    const events = await eventsOf('faults2-lost');
    const reasons = events.map((e) => e.reason);
    expect(events.find((e) => e.reason === 'HypervisorTimeout')?.type).toBe('Warning');
    expect(reasons).not.toContain('RolledBack');
    expect(reasons.filter((r) => r === 'IsoAttached')).toHaveLength(1);
    await expectNoSecret('faults2-lost', 'faults2-lost-iso');
  });

  it('a config write PVE applied but whose reply was lost: the next pass finds it in the config and does not write it again', async () => {
    const vmid = addVm('faults2-applied');
    sim.faults.hangCalls({ method: 'PUT', path: new RegExp(`/qemu/${vmid}/config$`), times: 1, afterHandling: true });
    await apply(vmYaml('faults2-applied', vmid));
    await apply(isoYaml('faults2-applied-iso', 'faults2-applied', 'local:iso/installer.iso'));
    // The timeout's condition lasts until the next pass; its Warning Event stays.
    const warning = await eventually(async () => (await eventsOf('faults2-applied')).find((e) => e.reason === 'HypervisorTimeout'), 'HypervisorTimeout Event', 90_000);
    expect(warning.type).toBe('Warning');
    await until('isoattachment/faults2-applied-iso', 'Attached', (c) => c.status === 'True', 'attached, seen from the config');
    await until('vm/faults2-applied', 'MediaConfigured', (c) => c.status === 'True', 'MediaConfigured True');
    expect(isoSlots(vmid, 'local:iso/installer.iso')).toHaveLength(1);
    expect(sim.cluster.vms.get(vmid)!.config.boot).toMatch(/^order=ide2;scsi0/);
    // One write in all: the one whose reply was lost. No second write, no rollback. (Nothing
    // else is written: the boot order the VM starts with is the one wanted without the ISO.)
    expect(configWrites(vmid)).toHaveLength(1);
    expect((await eventsOf('faults2-applied')).map((e) => e.reason)).not.toContain('RolledBack');
    await expectNoSecret('faults2-applied', 'faults2-applied-iso');
  });
});

describe('a VM locked by another PVE job', () => {
  for (const lock of ['backup', 'snapshot']) {
    it(`reports lock ${lock}, does not roll back or spin, and converges once the lock is released`, async () => {
      const name = `faults2-lock-${lock}`;
      const vmid = addVm(name);
      const vm = sim.cluster.vms.get(vmid)!;
      vm.config.lock = lock;
      await apply(vmYaml(name, vmid));
      await apply(isoYaml(`${name}-iso`, name, 'local:iso/rescue.iso'));
      const locked = await until(`vm/${name}`, 'MediaConfigured', (c) => c.reason === 'VmLocked', 'MediaConfigured VmLocked');
      expect(locked.message).toContain(`locked (${lock})`);
      const iso = await until(`isoattachment/${name}-iso`, 'Attached', (c) => c.status === 'False', 'IsoAttachment waiting');
      expect(iso.message).toContain('VmLocked');
      // Held for 12 s: retries back off (2 s, then as long as the lock has lasted), no hot loop.
      const writesAtStart = configWrites(vmid).length;
      await new Promise((r) => setTimeout(r, 12_000));
      const writesWhileLocked = configWrites(vmid).length - writesAtStart;
      expect(writesWhileLocked).toBeLessThanOrEqual(4);
      expect(Object.values(vm.config).join(' ')).not.toContain('rescue.iso');
      delete vm.config.lock;
      await until(`isoattachment/${name}-iso`, 'Attached', (c) => c.status === 'True', 'attached after the lock went', 120_000);
      expect(isoSlots(vmid, 'local:iso/rescue.iso')).toHaveLength(1);
      const reasons = (await eventsOf(name)).map((e) => e.reason);
      expect(reasons).toContain('VmLocked');
      expect(reasons).not.toContain('RolledBack');
      expect(reasons).not.toContain('ApplyFailed');
      expect(reasons.filter((r) => r === 'IsoAttached')).toHaveLength(1);
      await expectNoSecret(name, `${name}-iso`);
    });
  }
});

describe('a create task far slower than a pass, across a controller restart', () => {
  it('the restarted controller polls the recorded qmcreate instead of creating again, then attaches the ISO once', async () => {
    const vmid = nextVmid++;
    sim.faults.taskDurationMs = 20_000; // ten power-poll intervals; the restart lands in the middle
    await apply(`apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: faults2-slow, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: ${vmid}}
  source: create
  osFamily: debian
  hardware:
    cores: 1
    memoryMiB: 512
    disks: [{slot: scsi0, sizeGiB: 4, format: raw}]
    nics: [{name: net0, bridge: vmbr0}]
`);
    await apply(isoYaml('faults2-slow-iso', 'faults2-slow', 'local:iso/installer.iso'));
    const task = await eventually(async () => {
      const vm = await getJson<{ status?: { operation?: { kind: string; task?: string } } }>(['get', 'vm/faults2-slow', '-n', ns]);
      return vm.status?.operation?.kind === 'create' && vm.status.operation.task;
    }, 'the create task recorded in status.operation', 30_000, 100);
    expect(task).toMatch(/:qmcreate:/);
    await held.site.controller.stop();
    expect(sim.cluster.vms.get(vmid)?.config.lock).toBe('create'); // still running when the controller went
    const callsBeforeRestart = sim.calls.length;
    held.site.controller = await runController(parseControllerConfig({ kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', bootAddr: ':0', consoleAddr: ':0' }), silentLogger());
    await until('vm/faults2-slow', 'VmFound', (c) => c.status === 'True', 'created', 90_000);
    await until('isoattachment/faults2-slow-iso', 'Attached', (c) => c.status === 'True', 'ISO attached after the create', 90_000);
    expect(sim.calls.filter((c) => c === 'POST /nodes/pve1/qemu')).toHaveLength(1);
    expect(isoSlots(vmid, 'local:iso/installer.iso')).toHaveLength(1);
    const vm = await getJson<{ status?: { operation?: unknown } }>(['get', 'vm/faults2-slow', '-n', ns]);
    expect(vm.status?.operation).toBeUndefined();
    // The new controller asked PVE about the recorded task rather than starting another.
    expect(sim.calls.slice(callsBeforeRestart).some((c) => c.startsWith('GET /nodes/pve1/tasks/') && c.includes('qmcreate'))).toBe(true);
  });
});

const LIBVIRTD_PID = '/var/run/libvirtd.pid';
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const libvirtdPid = () => { try { return Number(readFileSync(LIBVIRTD_PID, 'utf8').trim()); } catch { return 0; } };

/** Starts libvirtd as hack/libvirt.sh does (no systemd) unless it runs, and waits until it answers. */
async function ensureLibvirtd(): Promise<void> {
  const pid = libvirtdPid();
  if (!pid || !alive(pid)) await promisify(execFile)('libvirtd', ['--daemon', '--pid-file', LIBVIRTD_PID]);
  await eventually(async () => (await virsh(['version'])).code === 0, 'libvirtd answering', 60_000, 250);
}

describe('libvirtd restarted while an ISO is being attached', () => {
  const domain = uniqueName('faults2-dom');
  const iso = `${uniqueName('faults2-iso')}.iso`;
  const lvHv = uniqueName('faults2-lv');

  beforeAll(async () => {
    await ensureLibvirtd();
    await virshOk(['define', writeTemp(minimalDomainXml(domain))]);
    await virshOk(['vol-create-as', 'default', iso, '1M', '--format', 'raw']);
    await virshOk(['vol-upload', '--pool', 'default', iso, '/usr/lib/ipxe/ipxe.iso']);
    await apply(`apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${lvHv}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system", storagePool: default}, requestTimeoutSeconds: 5, inventoryIntervalSeconds: 30}\n`);
  });

  afterAll(async () => {
    await ensureLibvirtd(); // whatever happened in the test, the shared daemon runs again
    await kubectl(['delete', 'isoattachment', 'faults2-lv-iso', '-n', ns, '--timeout=60s']);
    await kubectl(['delete', 'vm', 'faults2-lv', '-n', ns, '--timeout=60s']);
    await kubectl(['delete', 'hv', lvHv, '--timeout=60s']);
    await removeDomain(domain);
    await virsh(['vol-delete', '--pool', 'default', iso]);
  });

  it('the controller reconnects, the Hypervisor shows the outage and recovers, and the ISO is in exactly one CD-ROM', async () => {
    await until(`hv/${lvHv}`, 'Connected', (c) => c.status === 'True', 'libvirt Hypervisor connected');
    await apply(`apiVersion: bootplane.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: faults2-lv, namespace: ${ns}}\nspec:\n  hypervisorRef: {name: ${lvHv}}\n  libvirt: {domainName: ${domain}}\n  osFamily: linux\n`);
    await until('vm/faults2-lv', 'MediaConfigured', (c) => c.status === 'True', 'domain adopted');
    try {
      await apply(`apiVersion: bootplane.io/v1alpha1\nkind: IsoAttachment\nmetadata: {name: faults2-lv-iso, namespace: ${ns}}\nspec:\n  vmRef: {name: faults2-lv}\n  source: {volume: "default/${iso}"}\n`);
      // libvirtd goes away the moment the attachment exists, while the controller reconciles it.
      const pid = libvirtdPid();
      process.kill(pid, 'SIGTERM');
      await eventually(async () => !alive(pid), 'libvirtd stopped', 30_000, 100);
      const outage = await until(`hv/${lvHv}`, 'Connected', (c) => c.status === 'False', 'the Hypervisor showing the outage', 90_000);
      expect(outage.reason).toMatch(/^Libvirt|Unreachable|Timeout/);
    } finally {
      await ensureLibvirtd();
    }
    await until(`hv/${lvHv}`, 'Connected', (c) => c.status === 'True', 'the Hypervisor connected again', 120_000);
    await until('isoattachment/faults2-lv-iso', 'Attached', (c) => c.status === 'True', 'the ISO attached after the restart', 120_000);
    await until('vm/faults2-lv', 'MediaConfigured', (c) => c.status === 'True', 'the VM converged', 120_000);
    const xml = await virshOk(['dumpxml', '--inactive', domain]);
    const cdroms = [...xml.matchAll(/<disk[^>]*device='cdrom'[\s\S]*?<\/disk>/g)].map((m) => m[0]);
    expect(cdroms.filter((d) => d.includes(iso)), xml).toHaveLength(1);
    expect(cdroms).toHaveLength(1); // the domain's one CD-ROM took it; none was added twice
  });
});

function writeTemp(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'faults2-')), 'domain.xml');
  writeFileSync(file, text);
  return file;
}
