// VMs bootplane makes on Proxmox VE, end to end: the real API server and controller, and the PVE
// simulator over HTTPS (every request and reply checked against the official schema). A VM from
// spec.hardware and a clone of a template are created through UPID tasks recorded in status and
// polled; a vmid someone else uses is refused; disk sizes reach status and a shrink is refused by
// field; power tasks are recorded and polled; a URL ISO's download shows real progress.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import { condition, eventually, getJson, kubectlOk } from './support/kube.js';
import { useProxmoxSite } from './support/proxmox.js';

const GiB = 2 ** 30;
let sim: PveSimulator;
let ns: string;
let hv: string;

const held = useProxmoxSite('pvecreate', (sim) => {
  sim.cluster.addVm({ vmid: 9000, config: { name: 'debian-12-template', template: 1, cores: 2, memory: '2048', ostype: 'l26', scsihw: 'virtio-scsi-single', scsi0: 'local-lvm:base-9000-disk-0,size=10G', ide2: 'local-lvm:vm-9000-cloudinit,media=cdrom', net0: 'virtio=BC:24:11:00:90:00,bridge=vmbr0', boot: 'order=scsi0;net0' } });
  sim.cluster.addVm({ vmid: 701, config: { name: 'someone-elses-db', cores: 8, memory: '16384', scsi0: 'local-lvm:vm-701-disk-0,size=100G' } });
});
beforeAll(() => {
  ({ sim, ns, hv } = held.site);
});

const apply = (yaml: string) => kubectlOk(['apply', '-f', '-'], yaml);
const until = (kindName: string, type: string, ok: (c: { status: string; reason: string; message: string }) => boolean, what: string, timeoutMs = 30_000) =>
  eventually(async () => {
    const c = await condition(kindName, type, ns);
    return c && ok(c) ? c : undefined;
  }, what, timeoutMs, 200);

interface VmStatus {
  metadata: { uid: string };
  status?: {
    operation?: { kind: string; task?: string };
    devices?: { slot: string; kind: string; volume?: string; sizeBytes?: number; allocationBytes?: number }[];
    macAddresses?: string[];
  };
}
const vmObject = (name: string) => getJson<VmStatus>(['get', 'virtualmachine', name, '-n', ns]);

describe('spec.source: create on Proxmox', () => {
  it('creates the VM from spec.hardware through a qmcreate task it polls, then manages it', async () => {
    sim.faults.taskDurationMs = 4000; // long enough to see the task in status, even on a busy machine
    await apply(`apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: web, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: 700}
  source: create
  osFamily: debian
  hardware:
    cores: 4
    memoryMiB: 4096
    machine: q35
    firmware: uefi
    disks: [{slot: scsi0, sizeGiB: 32, format: raw}, {slot: virtio1, sizeGiB: 4, storage: local, format: qcow2}]
    nics: [{name: net0, mac: "52:54:00:12:34:56", bridge: vmbr1, vlan: 30}]
`);
    const inFlight = await eventually(async () => {
      const vm = await vmObject('web');
      return vm.status?.operation?.kind === 'create' && vm.status.operation.task ? vm : undefined;
    }, 'the create task recorded in status.operation', 30_000, 100);
    expect(inFlight.status!.operation!.task).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmcreate:700:root@pam!bootplane:$/);
    expect((await condition('virtualmachine/web', 'VmFound', ns))?.reason).toBe('Creating');
    expect(sim.cluster.vms.get(700)?.config.lock).toBe('create'); // PVE's lock while the task runs

    const found = await until('virtualmachine/web', 'VmFound', (c) => c.status === 'True', 'created', 30_000);
    expect(found.reason).toBe('Created');
    const vm = await vmObject('web');
    expect(vm.status?.operation).toBeUndefined();
    const config = sim.cluster.vms.get(700)!.config;
    expect(config).toMatchObject({ name: 'web', cores: '4', memory: '4096', machine: 'q35', bios: 'ovmf', ostype: 'l26', scsihw: 'virtio-scsi-single' });
    expect(config.lock).toBeUndefined();
    expect(config.scsi0).toBe('local-lvm:vm-700-disk-0,size=32G');
    expect(config.virtio1).toBe('local:700/vm-700-disk-0.qcow2,size=4G'); // disk numbers count per storage
    expect(config.net0).toBe('virtio=52:54:00:12:34:56,bridge=vmbr1,tag=30');
    expect(config.efidisk0).toBe('local-lvm:vm-700-disk-1,efitype=4m,pre-enrolled-keys=0,size=4M'); // after the data disks, as PVE numbers them
    expect(config.description).toContain(`bootplane-owner=${vm.metadata.uid}`);
    expect(sim.cluster.storages.get('local-lvm')!.volumes.get('local-lvm:vm-700-disk-0')?.size).toBe(32 * GiB);

    await until('virtualmachine/web', 'DisksConfigured', (c) => c.status === 'True', 'disks converged');
    const after = await vmObject('web');
    expect(after.status?.macAddresses).toEqual(['52:54:00:12:34:56']);
    expect(after.status?.devices).toEqual(expect.arrayContaining([
      { slot: 'scsi0', kind: 'disk', volume: 'local-lvm:vm-700-disk-0', sizeBytes: 32 * GiB, allocationBytes: 32 * GiB },
      { slot: 'virtio1', kind: 'disk', volume: 'local:700/vm-700-disk-0.qcow2', sizeBytes: 4 * GiB, allocationBytes: 4 * GiB },
    ]));
    // One create only: the VM exists once and no second qmcreate was asked for.
    expect(sim.calls.filter((c) => c === 'POST /nodes/pve1/qemu')).toHaveLength(1);
  });

  it('refuses to shrink a disk, naming the field, and leaves the disk alone', async () => {
    const vm = await getJson<{ spec: { hardware: { disks: unknown[] } } }>(['get', 'virtualmachine', 'web', '-n', ns]);
    expect(vm.spec.hardware.disks).toHaveLength(2);
    await kubectlOk(['patch', 'virtualmachine', 'web', '-n', ns, '--type=json', '-p', '[{"op":"replace","path":"/spec/hardware/disks/0/sizeGiB","value":16}]']);
    const refused = await until('virtualmachine/web', 'DisksConfigured', (c) => c.reason === 'ShrinkRefused', 'shrink refused');
    expect(refused.message).toContain('spec.hardware.disks[0].sizeGiB');
    expect(refused.status).toBe('False');
    expect(sim.cluster.vms.get(700)!.config.scsi0).toBe('local-lvm:vm-700-disk-0,size=32G');
    // Growing is not in the PVE API subset bootplane is built against: reported, not attempted.
    await kubectlOk(['patch', 'virtualmachine', 'web', '-n', ns, '--type=json', '-p', '[{"op":"replace","path":"/spec/hardware/disks/0/sizeGiB","value":40}]']);
    const grow = await until('virtualmachine/web', 'DisksConfigured', (c) => c.reason === 'GrowNotSupported', 'grow reported');
    expect(grow.message).toContain('spec.hardware.disks[0].sizeGiB');
    expect(sim.cluster.vms.get(700)!.config.scsi0).toBe('local-lvm:vm-700-disk-0,size=32G');
  });

  it('records a power task in status, polls it, and does not ask twice', async () => {
    sim.faults.taskDurationMs = 5000; // longer than the 2 s poll, so a pass sees it running
    await kubectlOk(['patch', 'virtualmachine', 'web', '-n', ns, '--type=merge', '-p', '{"spec":{"powerState":"Running"}}']);
    const vm = await eventually(async () => {
      const v = await vmObject('web');
      return v.status?.operation?.task ? v : undefined;
    }, 'power task in status', 30_000, 100);
    expect(vm.status!.operation).toMatchObject({ kind: 'power.start', task: expect.stringMatching(/:qmstart:700:/) as string });
    await until('virtualmachine/web', 'PowerConfigured', (c) => c.reason === 'PowerTaskRunning', 'the next pass polls the running task');
    await until('virtualmachine/web', 'PowerConfigured', (c) => c.reason === 'PowerTaskSucceeded', 'power task done');
    await eventually(async () => (await vmObject('web')).status?.operation === undefined, 'power task cleared');
    expect(sim.cluster.vms.get(700)!.running).toBe(true);
    await new Promise((r) => setTimeout(r, 2500)); // a few more passes
    expect(sim.calls.filter((c) => c === 'POST /nodes/pve1/qemu/700/status/start')).toHaveLength(1);
  });

  it('reports a failed power task in a condition', async () => {
    sim.faults.failTasks('qmshutdown', 'VM quit/powerdown failed - got timeout');
    await kubectlOk(['patch', 'virtualmachine', 'web', '-n', ns, '--type=merge', '-p', '{"spec":{"powerState":"Stopped"}}']);
    const failed = await until('virtualmachine/web', 'PowerConfigured', (c) => c.reason === 'PowerTaskFailed', 'power task failure reported');
    expect(failed.message).toContain('got timeout');
    expect(failed.status).toBe('False');
  });

  it('refuses a vmid that holds a VM bootplane did not create, and leaves that VM alone', async () => {
    const before = JSON.stringify(sim.cluster.vms.get(701)!.config);
    await apply(`apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: clash, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: 701}
  source: create
  hardware: {cores: 1, memoryMiB: 512, disks: [{slot: scsi0, sizeGiB: 8, format: raw}]}
`);
    const refused = await until('virtualmachine/clash', 'VmFound', (c) => c.reason === 'NameCollision', 'collision refused');
    expect(refused.message).toContain('was not created by bootplane');
    expect(refused.message).toContain('spec.proxmox.vmid');
    expect((await condition('virtualmachine/clash', 'Ready', ns))?.status).toBe('False');
    expect(JSON.stringify(sim.cluster.vms.get(701)!.config)).toBe(before);
    expect(sim.calls.some((c) => c.startsWith('PUT /nodes/pve1/qemu/701/') || c.startsWith('POST /nodes/pve1/qemu/701/'))).toBe(false);
  });

  it('refuses qcow2 on a block storage before asking PVE, naming the field', async () => {
    await apply(`apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: qcow-on-lvm, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: 703}
  source: create
  hardware: {disks: [{slot: scsi0, sizeGiB: 8}]}
`);
    const refused = await until('virtualmachine/qcow-on-lvm', 'VmFound', (c) => c.reason === 'CreateFailed', 'refused');
    expect(refused.message).toContain('spec.hardware.disks[0].format');
    expect(sim.cluster.vms.has(703)).toBe(false);
  });

  it('reports a create task that fails, and PVE leaves no VM behind', async () => {
    sim.faults.failTasks('qmcreate', "unable to create VM 704 - storage 'local-lvm' is full");
    await apply(`apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: full-disk, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: 704}
  source: create
  hardware: {disks: [{slot: scsi0, sizeGiB: 8, format: raw}]}
`);
    const failed = await until('virtualmachine/full-disk', 'VmFound', (c) => c.reason === 'CreateFailed', 'failure reported');
    expect(failed.message).toContain('is full');
    expect(sim.cluster.vms.has(704)).toBe(false);
    expect((await vmObject('full-disk')).status?.operation).toBeUndefined();
  });
});

describe('spec.source: clone on Proxmox', () => {
  it('clones a template (linked) through a qmclone task, with new MACs and its own cloud-init volume', async () => {
    sim.faults.taskDurationMs = 4000; // long enough to see the lock while the task runs, even on a busy machine
    await apply(`apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: from-template, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: 702}
  source: clone
  cloneFrom: {template: "9000", full: false}
`);
    const inFlight = await eventually(async () => (await vmObject('from-template')).status?.operation?.task, 'clone task recorded', 30_000, 100);
    expect(inFlight).toMatch(/:qmclone:9000:/);
    expect(sim.cluster.vms.get(702)?.config.lock).toBe('clone');
    const found = await until('virtualmachine/from-template', 'VmFound', (c) => c.status === 'True', 'cloned');
    expect(found.reason).toBe('Created');
    const config = sim.cluster.vms.get(702)!.config;
    expect(config.name).toBe('from-template');
    expect(config.template).toBeUndefined();
    expect(config.scsi0).toMatch(/^local-lvm:vm-702-disk-0,size=10G$/);
    expect(config.ide2).toBe('local-lvm:vm-702-cloudinit,media=cdrom');
    expect(config.net0).not.toContain('BC:24:11:00:90:00');
    const vm = await vmObject('from-template');
    expect(config.description).toContain(`bootplane-owner=${vm.metadata.uid}`);
    expect(sim.cluster.vms.get(9000)!.config.template).toBe('1'); // the template is untouched
  });

  it('refuses a template id that is no VM', async () => {
    await apply(`apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: no-template, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: 705}
  source: clone
  cloneFrom: {template: "9999"}
`);
    const failed = await until('virtualmachine/no-template', 'VmFound', (c) => c.reason === 'CreateFailed', 'refused');
    expect(failed.message).toContain('spec.cloneFrom.template');
    expect(sim.cluster.vms.has(705)).toBe(false);
  });
});

describe('ISO download progress on Proxmox', () => {
  let files: Server;
  let release: () => void = () => undefined;
  const body = Buffer.alloc(256 * 1024, 7);

  beforeAll(async () => {
    // Sends the first quarter, then the rest once the test has seen the progress in status.
    files = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
      res.write(body.subarray(0, body.length / 4));
      release = () => res.end(body.subarray(body.length / 4));
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  });
  afterAll(() => {
    release();
    files?.close();
  });

  it('shows the download task\'s own progress in status, then 100 when verified', async () => {
    const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}/slow.iso`;
    const sha = createHash('sha256').update(body).digest('hex');
    await apply(`apiVersion: bootplane.io/v1alpha1
kind: IsoAttachment
metadata: {name: slow, namespace: ${ns}}
spec:
  vmRef: {name: web}
  source: {url: "${url}", checksum: {algorithm: sha256, value: "${sha}"}}
`);
    const partial = await eventually(async () => {
      const p = (await getJson<{ status?: { download?: { progressPercent?: number } } }>(['get', 'isoattachment', 'slow', '-n', ns])).status?.download?.progressPercent;
      return p !== undefined && p > 0 && p < 100 ? p : undefined;
    }, 'partial progress in status', 30_000, 200);
    expect(partial).toBe(25);
    release();
    await eventually(async () => (await getJson<{ status?: { download?: { progressPercent?: number; verified?: boolean } } }>(['get', 'isoattachment', 'slow', '-n', ns])).status?.download?.verified === true, 'verified', 30_000, 200);
    expect((await getJson<{ status: { download: { progressPercent: number } } }>(['get', 'isoattachment', 'slow', '-n', ns])).status.download.progressPercent).toBe(100);
  });
});
