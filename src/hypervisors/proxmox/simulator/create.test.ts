// The simulator's create and clone, over real HTTPS with plain requests: PVE's synchronous
// refusals (taken vmid, ISO without media=cdrom, linked clone of a non-template, unknown
// parameter), the locks held while the task runs, and what the finished config looks like.
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PveApiError } from '../client/errors.js';
import { PveSimulator } from './server.js';

const AUTH = 'PVEAPIToken=root@pam!ci=8d6f9f4e-1111-2222-3333-444455556666';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Envelope = { data: any; message?: string; errors?: Record<string, string> };
let sim: PveSimulator;
let agent: Agent;

async function post(path: string, params: Record<string, string>) {
  const res = await request(`${sim.endpoint}/api2/json${path}`, {
    method: 'POST', dispatcher: agent, headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString(),
  });
  const text = await res.body.text();
  return { status: res.statusCode, reason: res.statusText, body: JSON.parse(text) as Envelope };
}

async function taskExit(upid: string): Promise<string | undefined> {
  await sim.settle();
  return sim.cluster.tasks.get(upid)?.exitstatus;
}

beforeAll(async () => {
  sim = new PveSimulator();
  sim.auth.addToken('root@pam!ci', '8d6f9f4e-1111-2222-3333-444455556666');
  sim.cluster.addVm({ vmid: 100, config: { name: 'taken' } });
  sim.cluster.addVm({ vmid: 9000, config: { name: 'tpl', template: 1, scsi0: 'local-lvm:base-9000-disk-0,size=8G', net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0', ide2: 'local-lvm:vm-9000-cloudinit,media=cdrom' } });
  sim.cluster.addVm({ vmid: 9001, config: { name: 'plain', scsi0: 'local-lvm:vm-9001-disk-0,size=8G' } });
  sim.cluster.addIso('local:iso/d.iso');
  await sim.start();
  agent = new Agent({ connect: { ca: sim.certificate.cert } });
});

afterEach(() => {
  sim.faults.reset();
  expect(sim.schemaViolations).toEqual([]);
});

afterAll(async () => {
  await sim.stop();
  await agent.close();
});

describe('POST /nodes/{node}/qemu', () => {
  it('refuses a taken vmid at once with PVE\'s 500, which the client reads as VmExists', async () => {
    const r = await post('/nodes/pve1/qemu', { vmid: '100', name: 'again' });
    expect(r).toMatchObject({ status: 500, body: { data: null, message: "unable to create VM 100 - VM 100 already exists on node 'pve1'\n" } });
    expect(new PveApiError(500, 'POST', '/nodes/pve1/qemu', r.body.message!, undefined).code).toBe('VmExists');
    expect(sim.cluster.vms.get(100)!.config).toEqual({ name: 'taken' });
  });

  it('refuses an ISO without media=cdrom and an unknown parameter with 400s', async () => {
    expect(await post('/nodes/pve1/qemu', { vmid: '110', ide2: 'local:iso/d.iso' })).toMatchObject({ status: 400, body: { errors: { ide2: "explicit 'media=cdrom' is required for iso images" } } });
    expect((await post('/nodes/pve1/qemu', { vmid: '110', disks: 'x' })).status).toBe(400);
    expect(sim.cluster.vms.has(110)).toBe(false);
  });

  it('holds lock: create while the qmcreate task runs, then writes the config with allocated disks', async () => {
    sim.faults.taskDurationMs = 200;
    const r = await post('/nodes/pve1/qemu', { vmid: '111', name: 'new', cores: '2', memory: '1024', scsi0: 'local-lvm:4,format=raw', virtio1: 'local:2,format=qcow2', net0: 'model=virtio,bridge=vmbr0', ide2: 'local:iso/d.iso,media=cdrom' });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmcreate:111:root@pam!ci:$/);
    expect(sim.cluster.vms.get(111)!.config).toEqual({ lock: 'create' });
    expect(await taskExit(r.body.data as string)).toBe('OK');
    const config = sim.cluster.vms.get(111)!.config;
    expect(config).toMatchObject({ name: 'new', cores: '2', memory: '1024', scsi0: 'local-lvm:vm-111-disk-0,size=4G', virtio1: 'local:111/vm-111-disk-0.qcow2,size=2G', boot: 'order=scsi0;ide2;net0' });
    expect(config.net0).toMatch(/^virtio=BC(:[0-9A-F]{2}){5},bridge=vmbr0$/);
    expect(config.smbios1).toMatch(/^uuid=/);
    expect(config.lock).toBeUndefined();
  });

  it('a failed qmcreate removes the VM and the volumes it made', async () => {
    const r = await post('/nodes/pve1/qemu', { vmid: '112', scsi0: 'local-lvm:4,format=qcow2' });
    expect(await taskExit(r.body.data as string)).toBe("unsupported format 'qcow2'");
    expect(sim.cluster.vms.has(112)).toBe(false);
    expect([...sim.cluster.storages.get('local-lvm')!.volumes.keys()].some((v) => v.includes('vm-112-'))).toBe(false);
  });
});

describe('POST /nodes/{node}/qemu/{vmid}/clone', () => {
  it('refuses a taken newid, a linked clone of a non-template, and storage on a linked clone, at once', async () => {
    expect((await post('/nodes/pve1/qemu/9000/clone', { newid: '100' })).body.message).toBe('unable to create VM 100: config file already exists\n');
    expect((await post('/nodes/pve1/qemu/9001/clone', { newid: '120', full: '0' })).status).toBe(500);
    expect((await post('/nodes/pve1/qemu/9000/clone', { newid: '120', full: '0', storage: 'local' })).body.message).toBe("parameter 'storage' not allowed for linked clones\n");
    expect(sim.cluster.vms.has(120)).toBe(false);
  });

  it('holds lock: clone on the target, then gives it new MACs, a new uuid and its own cloud-init volume', async () => {
    sim.faults.taskDurationMs = 200;
    const r = await post('/nodes/pve1/qemu/9000/clone', { newid: '121', name: 'copy', description: 'mine' });
    expect(r.body.data).toMatch(/:qmclone:9000:/);
    expect(sim.cluster.vms.get(121)!.config).toEqual({ lock: 'clone' });
    expect(await taskExit(r.body.data as string)).toBe('OK');
    const config = sim.cluster.vms.get(121)!.config;
    expect(config).toMatchObject({ name: 'copy', description: 'mine', scsi0: 'local-lvm:vm-121-disk-0,size=8G', ide2: 'local-lvm:vm-121-cloudinit,media=cdrom' });
    expect(config.net0).not.toContain('BC:24:11:00:00:01');
    expect(config.template).toBeUndefined();
    expect(sim.cluster.storages.get('local-lvm')!.volumes.get('local-lvm:vm-121-disk-0')?.size).toBe(8 * 2 ** 30);
  });

  it('names a clone Copy-of-VM-<name> when no name is given', async () => {
    const r = await post('/nodes/pve1/qemu/9000/clone', { newid: '122' });
    expect(await taskExit(r.body.data as string)).toBe('OK');
    expect(sim.cluster.vms.get(122)!.config.name).toBe('Copy-of-VM-tpl');
  });
});
