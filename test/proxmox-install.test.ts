// The install lifecycle and teardown on the PVE simulator, through the real API server and the
// controller: an ISO install that ends when the installer powers the VM off, then the installer
// ISO ejected, the boot order set to the disk, the named snapshot taken once (a qmsnapshot task,
// polled), and the VM started again; a snapshot the storage cannot take, reported; an install
// that times out; and a bootstrap VM deleted (qmdestroy, its own volumes only) once its peers
// are Ready. The simulator's state is the oracle for what happened on "Proxmox".
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import { condition, eventually, getJson, kubectlOk } from './support/kube.js';
import { startProxmoxSite, stopProxmoxSite, type ProxmoxSite } from './support/proxmox.js';

let site: ProxmoxSite;
let sim: PveSimulator;
let ns: string;
let hv: string;
const TIMEOUT_VMID = 710;

beforeAll(async () => {
  site = await startProxmoxSite('pveinst', (s) => {
    s.cluster.addIso('local:iso/debian-12.iso');
    s.cluster.addIso('local:iso/virtio-win.iso');
  });
  ({ sim, ns, hv } = site);
  // Started first: it needs a minute to time out, and the other scenarios run meanwhile.
  sim.cluster.addVm({ vmid: TIMEOUT_VMID, config: { name: 'slow', ostype: 'l26', scsi0: `local-lvm:vm-${TIMEOUT_VMID}-disk-0,size=8G`, boot: 'order=scsi0' } });
  const slow = (power: string) => vmYaml('slow', TIMEOUT_VMID, `  osFamily: debian\n${power}  install: {source: iso, timeoutSeconds: 60, detectCompletion: [diskBoot]}\n`);
  await apply(slow(''));
  await apply(isoYaml('slow-inst', 'slow', 'local:iso/debian-12.iso'));
  await until('isoattachment/slow-inst', 'Attached', (c) => c.status === 'True', 'installer attached');
  await apply(slow('  powerState: Running\n'));
});

afterEach(() => {
  expect(sim.schemaViolations).toEqual([]);
});

afterAll(async () => {
  await stopProxmoxSite(site, 'isoattachments,virtualmachines');
});

function vmYaml(name: string, vmid: number, extra = '', labels = ''): string {
  return `apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: ${ns}${labels ? `, labels: {${labels}}` : ''}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: ${vmid}}
${extra}`;
}

function isoYaml(name: string, vm: string, volume: string): string {
  return `apiVersion: bootplane.io/v1alpha1
kind: IsoAttachment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  vmRef: {name: ${vm}}
  source: {volume: "${volume}"}
  purpose: installer
  primaryBoot: true
  ejectPolicy: AfterInstall
`;
}

function apply(yaml: string): Promise<string> {
  return kubectlOk(['apply', '-f', '-'], yaml);
}

async function until(kindName: string, type: string, pred: (c: { status: string; reason: string; message: string }) => boolean, what: string, timeoutMs = 60_000) {
  return eventually(async () => {
    const c = await condition(kindName, type, ns);
    return c && pred(c) && c;
  }, what, timeoutMs, 300);
}

const snapshotCalls = (vmid: number) => sim.calls.filter((c) => c === `POST /nodes/pve1/qemu/${vmid}/snapshot`).length;

describe('install lifecycle on Proxmox', () => {
  it('ISO install: the installer powers off -> Installed, ISO ejected, boot from disk, snapshot once, started again', async () => {
    const vmid = 700;
    // Stopped: the ISO goes in while it is off, then spec.powerState starts it into the installer
    // (media and power in one pass would race on PVE: the start can beat the qmconfig task).
    sim.cluster.addVm({ vmid, config: { name: 'db', ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, net0: 'virtio=BC:24:11:00:07:00,bridge=vmbr0', boot: 'order=scsi0;net0' } });
    const db = (power: string) => vmYaml('db', vmid, `  osFamily: debian
${power}  install:
    source: iso
    detectCompletion: [diskBoot]
    afterInstall: {bootPreset: hd, snapshotName: installed}
`);
    await apply(db(''));
    await apply(isoYaml('db-inst', 'db', 'local:iso/debian-12.iso'));
    await until('isoattachment/db-inst', 'Attached', (c) => c.status === 'True', 'installer attached');
    expect((await condition('vm/db', 'Installed', ns))?.reason).toBe('NotStarted'); // in place, but the VM is off
    await apply(db('  powerState: Running\n'));
    const started = await until('vm/db', 'Installed', (c) => c.reason === 'Installing', 'install started');
    expect(started.status).toBe('False');
    const config = sim.cluster.vms.get(vmid)!.config;
    expect(config.ide2 ?? config.sata0 ?? '').toContain('debian-12.iso');
    expect(config.boot).toMatch(/^order=(ide2|sata\d);scsi0/); // primaryBoot: the installer first
    const installing = await getJson<{ status: { install: { state: string; startedAt: string } } }>(['get', 'vm', 'db', '-n', ns]);
    expect(installing.status.install.state).toBe('Installing');

    // The installer finishes and powers the VM off (what the guest does; the simulator is the VM).
    sim.cluster.vms.get(vmid)!.running = false;
    const done = await until('vm/db', 'Installed', (c) => c.status === 'True', 'installed');
    expect(done.reason).toBe('BootedFromDisk');
    await until('vm/db', 'Snapshot', (c) => c.status === 'True', 'snapshot taken');

    const vm = sim.cluster.vms.get(vmid)!;
    expect(Object.values(vm.config).join(' ')).not.toContain('debian-12.iso');
    expect(vm.config.boot).toBe('order=scsi0');
    expect([...vm.snapshots.keys()]).toEqual(['installed']);
    const status = (await getJson<{ status: { install: Record<string, unknown>; snapshots: string[] } }>(['get', 'vm', 'db', '-n', ns])).status;
    expect(status.install).toMatchObject({ state: 'Installed', completedBy: 'diskBoot', progressPercent: 100, startedAt: installing.status.install.startedAt });
    expect(status.snapshots).toEqual(['installed']);
    await until('isoattachment/db-inst', 'Attached', (c) => c.reason === 'Ejected', 'installer ejected');
    // spec.powerState Running: the installed VM is started again, now from its disk.
    await eventually(async () => sim.cluster.vms.get(vmid)!.running, 'VM started after the install');

    // Idempotent: more passes take no second snapshot.
    const calls = snapshotCalls(vmid);
    expect(calls).toBe(1);
    await kubectlOk(['annotate', 'vm', 'db', '-n', ns, `bootplane.test/poke=${Date.now()}`, '--overwrite']);
    await new Promise((r) => setTimeout(r, 3000));
    expect(snapshotCalls(vmid)).toBe(1);
    expect([...vm.snapshots.keys()]).toEqual(['installed']);
  });

  it('a snapshot the storage cannot take is reported, and the install still counts', async () => {
    const vmid = 701;
    // A raw file on a dir storage: PVE's has_feature('snapshot') is false.
    sim.cluster.addVm({ vmid, config: { name: 'rawdisk', ostype: 'l26', scsi0: `local:${vmid}/vm-${vmid}-disk-0.raw,size=8G`, boot: 'order=scsi0' } });
    await apply(vmYaml('rawdisk', vmid, '  osFamily: debian\n  install: {source: iso, markedInstalled: true, afterInstall: {snapshotName: base}}\n'));
    const failed = await until('vm/rawdisk', 'Snapshot', (c) => c.reason === 'SnapshotFailed', 'snapshot failure reported');
    expect(failed.message).toContain('snapshot feature is not available');
    expect((await condition('vm/rawdisk', 'Installed', ns))).toMatchObject({ status: 'True', reason: 'MarkedInstalled' });
    expect(sim.cluster.vms.get(vmid)!.snapshots.size).toBe(0);
  });

  it('an install with no completion signal fails at its timeout with a condition that says what to do', async () => {
    const c = await until('vm/slow', 'Installed', (x) => x.reason === 'Timeout', 'install timeout', 120_000);
    expect(c.status).toBe('False');
    expect(c.message).toContain('markedInstalled');
    const status = (await getJson<{ status: { install: Record<string, unknown> } }>(['get', 'vm', 'slow', '-n', ns])).status;
    expect(status.install).toMatchObject({ state: 'InstallationFailed', completedBy: 'timeout' });
    // The installer stays: a failed install ejects nothing.
    expect(Object.values(sim.cluster.vms.get(TIMEOUT_VMID)!.config).join(' ')).toContain('debian-12.iso');
  }, 150_000);
});

describe('teardown on Proxmox', () => {
  it('deletes the bootstrap VM with its own disks once two control-plane VMs are Ready', async () => {
    const bootstrap = 720;
    sim.cluster.addVm({ vmid: bootstrap, running: true, config: { name: 'bootstrap', scsi0: `local-lvm:vm-${bootstrap}-disk-0,size=16G`, ide2: 'local:iso/virtio-win.iso,media=cdrom', boot: 'order=scsi0' } });
    await apply(vmYaml('bootstrap', bootstrap, '  teardown:\n    whenReady: {matchLabels: {role: control-plane}, count: 2}\n    action: Delete\n'));
    const waiting = await until('vm/bootstrap', 'TornDown', (c) => c.reason === 'WaitingForPeers', 'waiting for peers');
    expect(waiting.message).toContain('0 of 2');
    for (const [i, vmid] of [721, 722].entries()) {
      sim.cluster.addVm({ vmid, running: true, config: { name: `cp${i}`, scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, boot: 'order=scsi0' } });
    }
    await apply(vmYaml('cp0', 721, '', 'role: control-plane'));
    await until('vm/bootstrap', 'TornDown', (c) => c.message.startsWith('1 of 2'), 'one peer Ready');
    expect(sim.cluster.vms.get(bootstrap)?.running).toBe(true);
    await apply(vmYaml('cp1', 722, '', 'role: control-plane'));
    const gone = await until('vm/bootstrap', 'TornDown', (c) => c.status === 'True', 'bootstrap torn down');
    expect(gone.reason).toBe('Deleted');
    expect(sim.cluster.vms.has(bootstrap)).toBe(false);
    expect(sim.cluster.ownedVolumes(bootstrap)).toEqual([]);
    expect(sim.cluster.storages.get('local')!.volumes.has('local:iso/virtio-win.iso')).toBe(true); // not the VM's
    expect(sim.cluster.vms.get(721)?.running).toBe(true);
    expect(sim.calls).toContain(`DELETE /nodes/pve1/qemu/${bootstrap}`);
  });
});
