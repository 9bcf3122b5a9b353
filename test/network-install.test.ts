// A network install end to end on the real control plane, with the controller's own boot server
// and a VM on the PVE simulator: the VM's boot-once assignment puts the network first; the
// machine's first request gets the installer (Installing); its request after the installer's
// reboot gets local boot, which the boot server records and which ends the install
// (BootedFromDisk); then the disk alone is the boot order, and the assignment answers local boot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import { condition, eventually, getJson, kubectlOk } from './support/kube.js';
import { freePort } from './support/ports.js';
import { startProxmoxSite, stopProxmoxSite, type ProxmoxSite } from './support/proxmox.js';

const MAC = 'bc:24:11:00:09:01';
const VMID = 900;
let site: ProxmoxSite;
let sim: PveSimulator;
let ns: string;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  site = await startProxmoxSite('netinst', (s) => {
    s.cluster.addVm({ vmid: VMID, running: true, config: { name: 'node', ostype: 'l26', scsi0: `local-lvm:vm-${VMID}-disk-0,size=16G`, net0: `virtio=${MAC.toUpperCase()},bridge=vmbr0`, boot: 'order=scsi0' } });
  }, { bootAddr: `127.0.0.1:${port}`, bootStatusFlushMs: 200 });
  ({ sim, ns } = site);
});

afterAll(async () => {
  await stopProxmoxSite(site, 'nodebootassignments,bootprofiles,virtualmachines');
});

const ask = async () => (await fetch(`${base}/ipxe?mac=${MAC}&platform=pcbios&arch=x86_64`)).text();
const until = (kindName: string, type: string, pred: (c: { status: string; reason: string }) => boolean, what: string) =>
  eventually(async () => {
    const c = await condition(kindName, type, ns);
    return c && pred(c) && c;
  }, what, 60_000, 300);

describe('network install', () => {
  it('installer served once, local boot after its reboot ends the install, then the disk boots', async () => {
    await kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: BootProfile
metadata: {name: installer}
spec:
  type: ipxeTemplate
  unattended: true
  ipxeTemplate: |
    echo installing on {{hostname}}
    shell
  localBoot: exit
---
apiVersion: bootplane.io/v1alpha1
kind: NodeBootAssignment
metadata: {name: node}
spec:
  vmRef: {name: node}
  hostname: node
  profileRef: {name: installer}
  bootMode: Once
---
apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: node}
spec:
  hypervisorRef: {name: ${site.hv}}
  proxmox: {node: pve1, vmid: ${VMID}}
  osFamily: debian
  install:
    source: network
    detectCompletion: [diskBoot]
    afterInstall: {bootPreset: hd}
`);
    // The assignment is active: network first (pending on the running VM, as PVE does).
    await until('vm/node', 'Installed', (c) => c.reason === 'Installing', 'install started');
    await eventually(async () => /^order=net0/.test(sim.cluster.effectiveConfig(sim.cluster.vms.get(VMID)!).boot ?? ''), 'network first');
    await until('nodebootassignment/node', 'Ready', (c) => c.status === 'True', 'assignment ready');

    expect(await ask()).toContain('echo installing on node');
    await eventually(async () => (await getJson<{ status: { install: { progressPercent?: number } } }>(['get', 'vm', 'node', '-n', ns])).status.install.progressPercent === 50 || undefined, 'installer boot seen');
    expect((await condition('vm/node', 'Installed', ns))?.status).toBe('False');

    // The installer reboots; the machine asks again and is sent to its disk.
    const second = await ask();
    expect(second).not.toContain('installing');
    const done = await until('vm/node', 'Installed', (c) => c.status === 'True', 'installed');
    expect(done.reason).toBe('BootedFromDisk');
    const nba = (await getJson<{ status: { lastBoot: { answer?: string }; bootCount: number; bootOnceConsumedEpoch: number } }>(['get', 'nba', 'node', '-n', ns])).status;
    expect(nba).toMatchObject({ lastBoot: { answer: 'localBoot' }, bootCount: 1, bootOnceConsumedEpoch: 0 });
    await until('vm/node', 'LocalBoot', (c) => c.status === 'True', 'local boot');
    await eventually(async () => sim.cluster.effectiveConfig(sim.cluster.vms.get(VMID)!).boot === 'order=scsi0' || undefined, 'the disk alone');
    expect(await ask()).not.toContain('installing');
  });
});
