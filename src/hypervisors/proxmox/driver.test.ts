// The Proxmox driver against the PVE simulator over HTTPS: a VM read into the planner's view, a
// plan written as PVE requests (cloud-init relocated, ISO attached, boot order set), pending
// changes on a running VM, a stale digest refused whole, and ISO lookup and download.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { planMedia } from '../../planning/plan-media.js';
import { PveSimulator } from './simulator/server.js';
import { createProxmoxClient } from './client/create.js';
import { ProxmoxDriver } from './driver.js';

const signal = new AbortController().signal;
let sim: PveSimulator;
let driver: ProxmoxDriver;
let files: Server;
const ISO = Buffer.from('installer bytes');

beforeAll(async () => {
  sim = new PveSimulator();
  sim.auth.addToken('root@pam!bp', 'secret-1');
  sim.cluster.addIso('local:iso/fcos.iso');
  await sim.start();
  driver = new ProxmoxDriver(createProxmoxClient({ endpoint: sim.endpoint, credentials: { kind: 'token', tokenId: 'root@pam!bp', secret: 'secret-1' }, tls: { ca: sim.certificate.cert } }), { isoStorage: 'local' });
  files = createServer((_req, res) => res.end(ISO));
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
});

afterEach(() => expect(sim.schemaViolations).toEqual([]));

afterAll(async () => {
  await driver.close();
  await sim.stop();
  files.close();
});

const okd = { name: 'okd-master-0', machine: 'q35', boot: 'order=scsi0;ide0;net0', scsi0: 'local-lvm:vm-300-disk-0,size=32G', ide0: 'local-lvm:vm-300-disk-1,size=8G', ide2: 'local-lvm:vm-300-cloudinit,media=cdrom', net0: 'virtio=BC:24:11:00:03:00,bridge=vmbr0' };

describe('Proxmox driver', () => {
  it('relocates cloud-init off ide2 for a Fedora CoreOS ISO, attaches it and sets the boot order', async () => {
    sim.cluster.addVm({ vmid: 300, config: okd });
    const observed = (await driver.readVm({ node: 'pve1', vmid: 300 }, signal))!;
    expect(observed.devices.find((d) => d.slot === 'ide2')?.kind).toBe('cloudinit');
    const plan = planMedia(observed, { osFamily: 'fcos', isos: [{ id: 'ns/fcos', volume: 'local:iso/fcos.iso', slot: 'auto', purpose: 'installer', primaryBoot: false }] });
    expect(plan.isoSlots).toEqual({ 'ns/fcos': 'ide2' });
    const outcome = await driver.applyPlan({ node: 'pve1', vmid: 300 }, observed, plan, signal);
    expect(outcome.appliedSteps).toBe(plan.steps.length);
    expect(outcome.pending).toBeUndefined();
    const config = sim.cluster.vms.get(300)!.config;
    expect(config.ide2).toBe('local:iso/fcos.iso,media=cdrom');
    expect(config.boot).toBe(`order=${plan.bootOrder.join(';')}`);
    expect(config.ide0).toBe(okd.ide0); // the disk is untouched
    const after = (await driver.readVm({ node: 'pve1', vmid: 300 }, signal))!;
    // The VM the driver read back after the change is the VM as a fresh read sees it.
    expect(outcome.observed).toEqual(after);
    expect(planMedia(after, { osFamily: 'fcos', isos: [{ id: 'ns/fcos', volume: 'local:iso/fcos.iso', slot: 'auto', purpose: 'installer', primaryBoot: false }] }).steps).toEqual([]);
  });

  it('writes cloud-init and answers diskInfo from the config the pass read, and plans against a fresh one', async () => {
    sim.cluster.addVm({ vmid: 302, config: { ...okd, ide0: 'local-lvm:vm-302-disk-1,size=8G', scsi0: 'local-lvm:vm-302-disk-0,size=32G', ide2: 'local-lvm:vm-302-cloudinit,media=cdrom' } });
    const ref = { node: 'pve1', vmid: 302 };
    const observed = (await driver.readVm(ref, signal))!;
    let calls = sim.calls.length;
    await driver.writeCloudInit(ref, observed, { user: 'core', ipConfigs: [{ ip: 'dhcp' }] }, signal);
    expect(sim.cluster.vms.get(302)!.config.ciuser).toBe('core');
    // The config readVm just read is what the ci* keys are written against: no second read.
    expect(sim.calls.slice(calls).filter((c) => c.startsWith('GET'))).toEqual([]);
    calls = sim.calls.length;
    const disks = await driver.diskInfo(ref, signal);
    expect(disks.map((d) => [d.slot, d.capacityBytes])).toEqual([['ide0', 8 * 2 ** 30], ['scsi0', 32 * 2 ** 30]]);
    expect(sim.calls.slice(calls).filter((c) => c.includes('/qemu/302/'))).toEqual([]);
    // The entry kept for diskInfo has no digest: a plan made from the pass's first read is
    // checked against PVE, and the cloud-init write changed the digest.
    const plan = planMedia(observed, { osFamily: 'fcos', isos: [{ id: 'ns/fcos', volume: 'local:iso/fcos.iso', slot: 'auto', purpose: 'installer', primaryBoot: false }] });
    await expect(driver.applyPlan(ref, observed, plan, signal)).rejects.toMatchObject({ code: 'DigestMismatch' });
  });

  it('writes cloud-init content with the change that places the drive: one regeneration, no separate write', async () => {
    sim.cluster.addVm({ vmid: 303, config: { ...okd, ide0: 'local-lvm:vm-303-disk-1,size=8G', scsi0: 'local-lvm:vm-303-disk-0,size=32G', ide2: 'local-lvm:vm-303-cloudinit,media=cdrom', ipconfig1: 'ip=dhcp' } });
    const ref = { node: 'pve1', vmid: 303 };
    const observed = (await driver.readVm(ref, signal))!;
    const plan = planMedia(observed, { osFamily: 'fcos', isos: [{ id: 'ns/fcos', volume: 'local:iso/fcos.iso', slot: 'auto', purpose: 'installer', primaryBoot: false }] });
    const calls = sim.calls.length;
    const outcome = await driver.applyPlan(ref, observed, plan, signal, { cloudInit: { user: 'core', password: 'hunter2', ipConfigs: [{ ip: 'dhcp' }] } });
    expect(outcome.cloudInit).toEqual({ incomplete: [] });
    const config = sim.cluster.vms.get(303)!.config;
    expect(config.ciuser).toBe('core');
    expect(config.cipassword).toBeDefined();
    expect(config.ipconfig0).toBe('ip=dhcp');
    expect(config.ipconfig1).toBeUndefined(); // no longer wanted
    expect(config.ide2).toBe('local:iso/fcos.iso,media=cdrom');
    expect(sim.calls.slice(calls).map((c) => c.replace(/\?.*$/, ''))).toEqual([
      'PUT /nodes/pve1/qemu/303/config', // the old cloud-init drive out
      'PUT /nodes/pve1/qemu/303/config', // the new drive, the ISO, the boot order and the ci* keys
      'PUT /nodes/pve1/qemu/303/cloudinit', // one image from both
      'GET /nodes/pve1/qemu/303/pending', // read back
    ]);
    expect(planMedia(outcome.observed!, { osFamily: 'fcos', isos: [{ id: 'ns/fcos', volume: 'local:iso/fcos.iso', slot: 'auto', purpose: 'installer', primaryBoot: false }] }).steps).toEqual([]);
  });

  it('a failed change that carried a cloud-init password does not carry the password on in its error', async () => {
    sim.cluster.addVm({ vmid: 304, config: { ...okd, ide0: 'local-lvm:vm-304-disk-1,size=8G', scsi0: 'local-lvm:vm-304-disk-0,size=32G', ide2: 'local-lvm:vm-304-cloudinit,media=cdrom' } });
    const ref = { node: 'pve1', vmid: 304 };
    const observed = (await driver.readVm(ref, signal))!;
    const plan = planMedia(observed, { osFamily: 'fcos', isos: [{ id: 'ns/fcos', volume: 'local:iso/fcos.iso', slot: 'auto', purpose: 'installer', primaryBoot: false }] });
    // As if PVE echoed a value back: the second config request (the one with the ci* keys) fails.
    sim.faults.failCalls({ method: 'PUT', path: /\/qemu\/304\/config$/, skip: 1, times: 1, status: 500, message: 'cipassword: s3cret-Pa55 refused' });
    const failure = await driver.applyPlan(ref, observed, plan, signal, { cloudInit: { user: 'core', password: 's3cret-Pa55' } }).catch((err: Error) => err);
    expect(failure).toMatchObject({ code: 'ApplyFailed' });
    expect((failure as Error).message).toContain('Change 2 of 3');
    expect((failure as Error).message).toContain('[redacted]');
    expect(JSON.stringify(failure) + String((failure as Error).message) + String((failure as Error).cause)).not.toContain('s3cret-Pa55');
  });

  it('refuses a plan made on a stale config as DigestMismatch, changing nothing', async () => {
    sim.cluster.addVm({ vmid: 301, config: { ...okd, ide0: 'local-lvm:vm-301-disk-1,size=8G', scsi0: 'local-lvm:vm-301-disk-0,size=32G', ide2: 'local-lvm:vm-301-cloudinit,media=cdrom' } });
    const observed = (await driver.readVm({ node: 'pve1', vmid: 301 }, signal))!;
    sim.cluster.vms.get(301)!.config.description = 'edited by a person';
    const before = { ...sim.cluster.vms.get(301)!.config };
    const plan = planMedia(observed, { osFamily: 'fcos', isos: [{ id: 'x', volume: 'local:iso/fcos.iso', slot: 'auto', purpose: 'installer', primaryBoot: false }] });
    await expect(driver.applyPlan({ node: 'pve1', vmid: 301 }, observed, plan, signal)).rejects.toMatchObject({ code: 'DigestMismatch' });
    expect(sim.cluster.vms.get(301)!.config).toEqual(before);
  });

  it('reports what a running VM keeps pending', async () => {
    sim.cluster.addVm({ vmid: 302, running: true, config: { name: 'debian-web', ostype: 'l26', scsi0: 'local-lvm:vm-302-disk-0,size=8G', boot: 'order=scsi0' } });
    const observed = (await driver.readVm({ node: 'pve1', vmid: 302 }, signal))!;
    expect(observed.power).toBe('Running');
    const plan = planMedia(observed, { isos: [{ id: 'r', volume: 'local:iso/fcos.iso', slot: 'sata0', purpose: 'rescue', primaryBoot: true }] });
    const outcome = await driver.applyPlan({ node: 'pve1', vmid: 302 }, observed, plan, signal);
    expect(outcome.pending).toEqual(['boot', 'sata0']);
    expect((await driver.readVm({ node: 'pve1', vmid: 302 }, signal))!.pending).toEqual(['boot', 'sata0']);
  });

  it('says a VM that does not exist is undefined', async () => {
    expect(await driver.readVm({ node: 'pve1', vmid: 999 }, signal)).toBeUndefined();
  });

  it('finds ISO volumes and downloads one with its checksum', async () => {
    expect(await driver.findIso('local:iso/fcos.iso', { node: 'pve1' }, signal)).toMatchObject({ volume: 'local:iso/fcos.iso' });
    expect(await driver.findIso('local:iso/missing.iso', { node: 'pve1' }, signal)).toBeUndefined();
    const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}/talos.iso`;
    const start = await driver.downloadIso({ url, filename: 'talos 1.9.iso', checksum: { algorithm: 'sha256', value: createHash('sha256').update(ISO).digest('hex') } }, signal);
    expect(start.volume).toBe('local:iso/talos_1.9.iso');
    await sim.settle();
    expect(await driver.taskStatus({}, start.task!, signal)).toEqual({ done: true, ok: true, message: 'OK' });
    expect(await driver.findIso(start.volume, { node: 'pve1' }, signal)).toEqual({ volume: start.volume, sizeBytes: ISO.length });
    const bad = await driver.downloadIso({ url, filename: 'other.iso', checksum: { algorithm: 'sha256', value: 'a'.repeat(64) } }, signal);
    await sim.settle();
    expect(await driver.taskStatus({}, bad.task!, signal)).toMatchObject({ done: true, ok: false, message: expect.stringContaining('checksum mismatch') });
  });
});
