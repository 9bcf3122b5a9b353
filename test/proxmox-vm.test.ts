// VirtualMachine and IsoAttachment reconciliation end to end: the real API server, the real
// controller, and the PVE simulator over HTTPS (every request and reply checked against the
// official schema). Each scenario is what a user does with kubectl and what they then see on
// the VM and in status.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import { condition, eventually, getJson, kubectlOk } from './support/kube.js';
import { useProxmoxSite } from './support/proxmox.js';

const ISO_BYTES = Buffer.from('a pretend Talos installer image');
let sim: PveSimulator;
let files: Server;
let ns: string;
let hv: string;
let nextVmid = 500;

const held = useProxmoxSite('pvevm', (sim) => {
  for (const iso of ['fcos-live.iso', 'debian-12.iso', 'win2022.iso', 'virtio-win.iso', 'rescue.iso']) sim.cluster.addIso(`local:iso/${iso}`);
});

beforeAll(async () => {
  ({ sim, ns, hv } = held.site);
  files = createServer((_req, res) => res.end(ISO_BYTES));
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
});

afterAll(() => {
  files?.close();
});

function vmYaml(name: string, vmid: number, extra = ''): string {
  return `apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: ${vmid}}
${extra}`;
}

function isoYaml(name: string, vm: string, source: string, extra = ''): string {
  return `apiVersion: bootplane.io/v1alpha1
kind: IsoAttachment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  vmRef: {name: ${vm}}
  source: ${source}
${extra}`;
}

const pveConfig = (vmid: number) => sim.cluster.vms.get(vmid)!.config;
const apply = (yaml: string) => kubectlOk(['apply', '-f', '-'], yaml);
const cond = (kindName: string, type: string) => condition(kindName, type, ns);
async function until(kindName: string, type: string, pred: (c: { status: string; reason: string; message: string }) => boolean, what: string) {
  return eventually(async () => {
    const c = await cond(kindName, type);
    return c && pred(c) && c;
  }, what, 60_000, 300);
}
async function events(name: string): Promise<string> {
  return kubectlOk(['get', 'events.events.k8s.io', '-n', ns, '--field-selector', `regarding.name=${name}`, '-o', 'json']);
}

describe('VirtualMachine and IsoAttachment on Proxmox', () => {
  it('Fedora CoreOS ISO that needs ide2 while cloud-init sits there: cloud-init relocated, ISO attached, boot order set', async () => {
    const vmid = nextVmid++;
    sim.cluster.addVm({ vmid, config: { name: 'okd-master-0', machine: 'q35', scsi0: `local-lvm:vm-${vmid}-disk-0,size=120G`, ide0: `local-lvm:vm-${vmid}-disk-1,size=8G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`, net0: 'virtio=BC:24:11:00:05:00,bridge=vmbr0', boot: 'order=scsi0;ide0;net0' } });
    await apply(vmYaml('okd-master-0', vmid, '  osFamily: fcos\n'));
    await apply(isoYaml('fcos', 'okd-master-0', '{volume: "local:iso/fcos-live.iso"}'));
    await until('isoattachment/fcos', 'Attached', (c) => c.status === 'True', 'fcos attached');
    const config = pveConfig(vmid);
    expect(config.ide2).toBe('local:iso/fcos-live.iso,media=cdrom');
    expect(config.ide0).toBe(`local-lvm:vm-${vmid}-disk-1,size=8G`); // a data disk never moves
    const cloudInit = Object.entries(config).find(([, v]) => /cloudinit/.test(v));
    expect(cloudInit?.[0]).toMatch(/^(sata|scsi)\d+$/);
    expect(config.boot).toMatch(/^order=scsi0;.*ide2/);
    const iso = await getJson<{ status: { phase: string; slot: string } }>(['get', 'isoattachment', 'fcos', '-n', ns]);
    expect(iso.status).toMatchObject({ phase: 'Attached', slot: 'ide2' });
    const vm = await getJson<{ status: { cloudInitSlot: string; osFamily: string; bootOrder: string[] } }>(['get', 'vm', 'okd-master-0', '-n', ns]);
    expect(vm.status.cloudInitSlot).toBe(cloudInit?.[0]);
    expect(vm.status.osFamily).toBe('fcos');
    expect((await cond('vm/okd-master-0', 'Ready'))?.status).toBe('True');
    const ev = await events('okd-master-0');
    for (const reason of ['CloudInitRelocated', 'IsoAttached', 'BootOrderChanged']) expect(ev).toContain(reason);
    // The relocation is one change, so one Event naming both slots (its steps each have an audit line).
    const relocated = (JSON.parse(ev) as { items: { reason: string; note: string }[] }).items.filter((e) => e.reason === 'CloudInitRelocated');
    expect(relocated).toHaveLength(1);
    expect(relocated[0]!.note).toBe(`move the cloud-init drive from ide2 to ${cloudInit?.[0]} and regenerate its image`);
    expect(ev).not.toContain('CloudInitRemoved');
  });

  it('Debian cloud-init moves to SCSI on request', async () => {
    const vmid = nextVmid++;
    sim.cluster.addVm({ vmid, config: { name: 'debian-web', ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`, boot: 'order=scsi0' } });
    await apply(vmYaml('debian-web', vmid, '  osFamily: debian\n  cloudInit: {placement: scsi}\n'));
    await until('vm/debian-web', 'MediaConfigured', (c) => c.status === 'True', 'debian converged');
    const config = pveConfig(vmid);
    expect(config.ide2).toBeUndefined();
    expect(Object.entries(config).find(([, v]) => /cloudinit/.test(v))?.[0]).toMatch(/^scsi\d+$/);
    expect(config.scsi0).toBe(`local-lvm:vm-${vmid}-disk-0,size=16G`);
  });

  it('Windows installer and virtio driver ISOs both attach, the drivers as a second CD-ROM', async () => {
    const vmid = nextVmid++;
    sim.cluster.addVm({ vmid, config: { name: 'win-app', ostype: 'win11', sata0: `local-lvm:vm-${vmid}-disk-0,size=64G`, boot: 'order=sata0' } });
    await apply(vmYaml('win-app', vmid));
    await apply(isoYaml('win-installer', 'win-app', '{volume: "local:iso/win2022.iso"}'));
    await apply(isoYaml('win-drivers', 'win-app', '{volume: "local:iso/virtio-win.iso"}', '  purpose: drivers\n'));
    await until('isoattachment/win-installer', 'Attached', (c) => c.status === 'True', 'installer attached');
    await until('isoattachment/win-drivers', 'Attached', (c) => c.status === 'True', 'drivers attached');
    const config = pveConfig(vmid);
    const cdroms = Object.entries(config).filter(([, v]) => /media=cdrom/.test(v)).map(([k, v]) => `${k}=${v.split(',')[0]}`);
    expect(cdroms.sort()).toHaveLength(2);
    expect(cdroms.join(' ')).toContain('local:iso/win2022.iso');
    expect(cdroms.join(' ')).toContain('local:iso/virtio-win.iso');
    expect(config.sata0).toBe(`local-lvm:vm-${vmid}-disk-0,size=64G`);
  });

  it('ejects an installer after the install is marked done, and deleting an IsoAttachment restores the VM', async () => {
    const vmid = nextVmid++;
    const original = { name: 'rhel-db', ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, net0: 'virtio=BC:24:11:00:05:09,bridge=vmbr0', boot: 'order=scsi0;net0' };
    sim.cluster.addVm({ vmid, config: original });
    await apply(vmYaml('rhel-db', vmid, '  osFamily: rhel\n  install: {source: iso}\n'));
    await apply(isoYaml('rhel-inst', 'rhel-db', '{volume: "local:iso/debian-12.iso"}', '  ejectPolicy: AfterInstall\n'));
    await apply(isoYaml('rhel-rescue', 'rhel-db', '{volume: "local:iso/rescue.iso"}', '  purpose: rescue\n'));
    await until('isoattachment/rhel-inst', 'Attached', (c) => c.status === 'True', 'installer attached');
    await until('isoattachment/rhel-rescue', 'Attached', (c) => c.status === 'True', 'rescue attached');
    await apply(vmYaml('rhel-db', vmid, '  osFamily: rhel\n  install: {source: iso, markedInstalled: true}\n'));
    await until('isoattachment/rhel-inst', 'Attached', (c) => c.reason === 'Ejected', 'installer ejected');
    expect(Object.values(pveConfig(vmid)).join(' ')).not.toContain('debian-12.iso');
    expect(Object.values(pveConfig(vmid)).join(' ')).toContain('rescue.iso');
    // No finalizer: the object goes at once, and the VM takes out what its record says it
    // attached for that name (status.attachedIsos).
    await kubectlOk(['delete', 'isoattachment', 'rhel-rescue', '-n', ns, '--timeout=60s']);
    await eventually(async () => !Object.values(pveConfig(vmid)).join(' ').includes('rescue.iso'), 'rescue ISO detached');
    await eventually(async () => pveConfig(vmid).boot === original.boot, 'boot order restored');
    expect(await events('rhel-db')).toContain('IsoDetached');
  });

  it('rolls a change that fails midway back to where the VM was', async () => {
    const vmid = nextVmid++;
    const original = { name: 'fcos-roll', machine: 'q35', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, ide0: `local-lvm:vm-${vmid}-disk-1,size=8G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`, boot: 'order=scsi0;ide0' };
    sim.cluster.addVm({ vmid, config: original });
    // The first write (boot order or removal) goes through, a later one fails.
    sim.faults.failCalls({ method: 'PUT', path: new RegExp(`/qemu/${vmid}/config$`), status: 500, message: 'unable to create image: storage exhausted', times: 1, skip: 1 });
    await apply(vmYaml('fcos-roll', vmid, '  osFamily: fcos\n'));
    await apply(isoYaml('fcos-roll', 'fcos-roll', '{volume: "local:iso/fcos-live.iso"}'));
    // The VM converges right after (the fault is spent), so the rollback is read from its Events.
    const rolledBack = await eventually(async () => {
      const ev = JSON.parse(await events('fcos-roll')) as { items: { reason: string; note: string }[] };
      return ev.items.find((e) => e.reason === 'RolledBack');
    }, 'RolledBack event', 60_000, 300);
    expect(rolledBack.note).toContain('storage exhausted');
    expect(rolledBack.note).toContain('Rolled back: create the cloud-init drive at ide2');
    expect(await events('fcos-roll')).toContain('RolledBackCloudInitCreated');
    // Then, with the fault spent, the next pass converges.
    await until('isoattachment/fcos-roll', 'Attached', (c) => c.status === 'True', 'attached after the retry');
    expect(pveConfig(vmid).ide0).toBe(original.ide0);
  });

  it('re-plans when someone changes the VM between read and write (digest conflict)', async () => {
    const vmid = nextVmid++;
    sim.cluster.addVm({ vmid, config: { name: 'talos-cp', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, boot: 'order=scsi0' } });
    let edited = false;
    sim.faults.beforeCalls({ method: 'PUT', path: new RegExp(`/qemu/${vmid}/config$`), times: 1 }, () => {
      sim.cluster.vms.get(vmid)!.config.description = 'edited in the PVE GUI';
      edited = true;
    });
    await apply(vmYaml('talos-cp', vmid, '  osFamily: talos\n'));
    await apply(isoYaml('talos', 'talos-cp', '{volume: "local:iso/rescue.iso"}'));
    await until('isoattachment/talos', 'Attached', (c) => c.status === 'True', 'attached after re-plan');
    expect(edited).toBe(true);
    expect(pveConfig(vmid).description).toBe('edited in the PVE GUI');
    expect(await events('talos-cp')).toContain('Replanned');
  });

  it('keeps a running VM running: IDE/SATA changes stay pending and are reported as RestartRequired', async () => {
    const vmid = nextVmid++;
    sim.cluster.addVm({ vmid, running: true, config: { name: 'live', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, boot: 'order=scsi0' } });
    await apply(vmYaml('live', vmid));
    await apply(isoYaml('live-rescue', 'live', '{volume: "local:iso/rescue.iso"}', '  purpose: rescue\n  slot: sata1\n'));
    const restart = await until('vm/live', 'RestartRequired', (c) => c.status === 'True', 'RestartRequired');
    expect(restart.message).toContain('sata1');
    expect(sim.cluster.vms.get(vmid)!.running).toBe(true);
    expect((await cond('vm/live', 'Ready'))?.reason).toBe('RestartRequired');
  });

  it('does not move a running VM\'s cloud-init drive: it waits for power-off and changes nothing', async () => {
    const vmid = nextVmid++;
    sim.cluster.addVm({ vmid, running: true, config: { name: 'busy-web', ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`, boot: 'order=scsi0' } });
    const before = sim.cluster.digest(sim.cluster.vms.get(vmid)!);
    await apply(vmYaml('busy-web', vmid, '  osFamily: debian\n  cloudInit: {placement: scsi}\n'));
    const waiting = await until('vm/busy-web', 'MediaConfigured', (c) => c.reason === 'WaitingForPowerOff', 'waiting for power-off');
    expect(waiting.message).toContain('from ide2 to scsi');
    expect(sim.cluster.digest(sim.cluster.vms.get(vmid)!)).toBe(before);
    expect(sim.cluster.vms.get(vmid)!.running).toBe(true);
  });

  it('boots a VM from the network first while its NodeBootAssignment is active, and from disk again once it is disabled', async () => {
    const vmid = nextVmid++;
    sim.cluster.addVm({ vmid, config: { name: 'netboot', ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, net0: 'virtio=BC:24:11:00:07:01,bridge=vmbr0', boot: 'order=scsi0' } });
    await apply(vmYaml('netboot', vmid, '  bootOrder: {preset: hd}\n'));
    await until('vm/netboot', 'MediaConfigured', (c) => c.status === 'True', 'netboot VM converged');
    expect(pveConfig(vmid).boot).toBe('order=scsi0');
    const assignment = (state: string) => `apiVersion: bootplane.io/v1alpha1\nkind: NodeBootAssignment\nmetadata: {name: netboot-node, namespace: ${ns}}\nspec: {vmRef: {name: netboot}, profileRef: {name: rescue}, state: ${state}}\n`;
    await apply(assignment('Enabled'));
    await eventually(async () => pveConfig(vmid).boot === 'order=net0;scsi0', 'network first while the assignment is active');
    await apply(assignment('Disabled'));
    await eventually(async () => pveConfig(vmid).boot === 'order=scsi0', 'disk first again once it is disabled');
  });

  it('in safe mode plans and reports, and changes nothing', async () => {
    const vmid = nextVmid++;
    sim.cluster.addVm({ vmid, config: { name: 'careful', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, boot: 'order=scsi0' } });
    const before = sim.cluster.digest(sim.cluster.vms.get(vmid)!);
    await apply(vmYaml('careful', vmid, '  safeMode: true\n'));
    await apply(isoYaml('careful-iso', 'careful', '{volume: "local:iso/rescue.iso"}'));
    await until('vm/careful', 'SafeMode', (c) => c.status === 'True', 'safe mode plan');
    const vm = await getJson<{ status: { plan: string[] } }>(['get', 'vm', 'careful', '-n', ns]);
    expect(vm.status.plan.join('\n')).toContain('attach ISO local:iso/rescue.iso');
    expect(sim.cluster.digest(sim.cluster.vms.get(vmid)!)).toBe(before);
    expect(sim.calls.filter((c) => c.startsWith('PUT') && c.includes(`/qemu/${vmid}/`))).toEqual([]);
  });

  it('downloads a URL ISO with its checksum, shows progress, then attaches it', async () => {
    const vmid = nextVmid++;
    sim.cluster.addVm({ vmid, config: { name: 'talos-w', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, boot: 'order=scsi0' } });
    sim.faults.taskDurationMs = 1500;
    const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}/talos-amd64.iso`;
    const sha = createHash('sha256').update(ISO_BYTES).digest('hex');
    await apply(vmYaml('talos-w', vmid));
    await apply(isoYaml('talos-url', 'talos-w', `{url: "${url}", checksum: {algorithm: sha256, value: "${sha}"}}`));
    await eventually(async () => (await getJson<{ status?: { phase?: string } }>(['get', 'isoattachment', 'talos-url', '-n', ns])).status?.phase === 'Downloading', 'Downloading phase', 30_000, 200);
    await until('isoattachment/talos-url', 'Attached', (c) => c.status === 'True', 'downloaded and attached');
    const iso = await getJson<{ status: { volume: string; download: { verified: boolean; task: string } } }>(['get', 'isoattachment', 'talos-url', '-n', ns]);
    expect(iso.status.volume).toBe('local:iso/talos-amd64.iso');
    expect(iso.status.download.verified).toBe(true);
    expect(iso.status.download.task).toMatch(/^UPID:pve1:.*:download:talos-amd64\.iso:root@pam!bootplane:$/);
    expect(Object.values(pveConfig(vmid)).join(' ')).toContain('local:iso/talos-amd64.iso');
  });
});
