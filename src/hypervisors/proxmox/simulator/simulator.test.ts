// The simulator's PVE behaviours, seen over real HTTPS through plain requests (so the wire
// shapes themselves are checked): envelopes, auth failures, schema errors, pending changes on a
// running VM, cloud-init volumes, boot-order rules and download-url.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PveSimulator } from './server.js';

const AUTH = 'PVEAPIToken=root@pam!ci=8d6f9f4e-1111-2222-3333-444455556666';
// Replies are read loosely here; the simulator itself checks them against the schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Envelope = { data: any; message?: string; errors?: Record<string, string>; total?: number };
let sim: PveSimulator;
let agent: Agent;
let files: Server;
const ISO_BYTES = Buffer.from('not really an ISO, but bytes with a checksum');

async function call(method: string, path: string, params: Record<string, string> = {}, headers: Record<string, string> = { authorization: AUTH }) {
  const form = new URLSearchParams(params).toString();
  const res = await request(`${sim.endpoint}/api2/json${path}${method === 'GET' && form ? `?${form}` : ''}`, {
    method: method as 'GET', dispatcher: agent, headers: { ...headers, ...(method !== 'GET' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: method !== 'GET' ? form : undefined,
  });
  const text = await res.body.text();
  return { status: res.statusCode, reason: res.statusText, text, body: text ? JSON.parse(text) as Envelope : undefined };
}

async function task(upid: string) {
  await sim.settle();
  const node = upid.split(':')[1]!;
  const status = await call('GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);
  const log = await call('GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/log`);
  return { ...status.body!.data, log: (log.body!.data as { t: string }[]).map((l) => l.t), total: log.body!.total };
}

beforeAll(async () => {
  sim = new PveSimulator();
  sim.auth.addToken('root@pam!ci', '8d6f9f4e-1111-2222-3333-444455556666');
  sim.cluster.addIso('local:iso/fcos.iso');
  await sim.start();
  agent = new Agent({ connect: { ca: sim.certificate.cert } });
  files = createServer((_req, res) => res.end(ISO_BYTES));
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
});

afterEach(() => expect(sim.schemaViolations).toEqual([]));

afterAll(async () => {
  await sim.stop();
  await agent.close();
  files.close();
});

describe('PVE simulator', () => {
  it('answers unauthenticated calls with an empty 401 and PVE\'s status line', async () => {
    const r = await call('GET', '/version', {}, {});
    expect(r).toMatchObject({ status: 401, reason: 'No ticket', text: '' });
    const bad = await call('GET', '/version', {}, { authorization: 'PVEAPIToken=root@pam!ci=wrong' });
    expect(bad).toMatchObject({ status: 401, reason: 'Authentication failed!', text: '' });
  });

  it('refuses unknown parameters and bad types with 400 and per-parameter errors', async () => {
    sim.cluster.addVm({ vmid: 200, config: { name: 'a' } });
    const r = await call('PUT', '/nodes/pve1/qemu/200/config', { 'overrule-shutdown': '1', onboot: 'true' });
    expect(r.status).toBe(400);
    expect(r.reason).toBe('Parameter verification failed.');
    expect(r.body).toEqual({ data: null, message: 'Parameter verification failed.\n', errors: {
      'overrule-shutdown': 'property is not defined in schema and the schema does not allow additional properties',
      onboot: "type check ('boolean') failed - got 'true'",
    } });
    const ip = await call('PUT', '/nodes/pve1/qemu/200/config', { ipconfig0: 'ip=10.0.0.5/24,gw=10.0.0.300' });
    expect(ip.body?.errors?.ipconfig0).toContain('ipconfig0.gw: invalid format - value does not look like a valid IPv4 address');
    expect((await call('GET', '/nodes/pve1/qemu/99/config')).body?.errors?.vmid).toBe('value must have a minimum value of 100');
  });

  it('answers a missing VM with 500 and the config-file message', async () => {
    const r = await call('GET', '/nodes/pve1/qemu/4242/config');
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ data: null, message: "Configuration file 'nodes/pve1/qemu-server/4242.conf' does not exist\n" });
  });

  it('allocates a cloud-init volume, refuses a second one, and frees it when it is replaced', async () => {
    sim.cluster.addVm({ vmid: 201, config: { name: 'ci', scsi0: 'local-lvm:vm-201-disk-0,size=8G' } });
    const ok = await task((await call('POST', '/nodes/pve1/qemu/201/config', { ide2: 'local-lvm:cloudinit' })).body!.data);
    expect(ok.exitstatus).toBe('OK');
    expect(ok.log[0]).toBe("ide2: successfully created disk 'local-lvm:vm-201-cloudinit,media=cdrom'");
    const second = await task((await call('POST', '/nodes/pve1/qemu/201/config', { scsi1: 'local-lvm:cloudinit' })).body!.data);
    expect(second.exitstatus).toBe("scsi1 - cloud-init drive is already attached at 'ide2'");
    expect(second.log.at(-1)).toBe("TASK ERROR: scsi1 - cloud-init drive is already attached at 'ide2'");
    // The ISO takes ide2: the cloud-init volume is freed (stopped VM).
    await call('PUT', '/nodes/pve1/qemu/201/config', { ide2: 'local:iso/fcos.iso,media=cdrom' });
    const content = await call('GET', '/nodes/pve1/storage/local-lvm/content', { vmid: '201' });
    expect((content.body!.data as { volid: string }[]).map((v) => v.volid)).toEqual(['local-lvm:vm-201-disk-0']);
  });

  it('lists a VM\'s images on a storage that is not shared only on the VM\'s own node', async () => {
    sim.cluster.nodes.set('pve2', { online: true });
    try {
      sim.cluster.addVm({ vmid: 210, node: 'pve1', config: { name: 'here', scsi0: 'local-lvm:vm-210-disk-0,size=8G' } });
      sim.cluster.addVm({ vmid: 211, node: 'pve2', config: { name: 'there', scsi0: 'local-lvm:vm-211-disk-0,size=8G' } });
      const on = async (node: string) => ((await call('GET', `/nodes/${node}/storage/local-lvm/content`, { content: 'images' })).body!.data as { volid: string }[]).map((v) => v.volid);
      expect(await on('pve1')).toContain('local-lvm:vm-210-disk-0');
      expect(await on('pve1')).not.toContain('local-lvm:vm-211-disk-0');
      expect(await on('pve2')).toEqual(['local-lvm:vm-211-disk-0']);
    } finally {
      sim.cluster.vms.delete(211);
      sim.cluster.nodes.delete('pve2');
    }
  });

  it('keeps ide/sata changes pending on a running VM, swaps CD-ROM media live, and applies pending at start', async () => {
    sim.cluster.addVm({ vmid: 202, running: true, config: { name: 'run', scsi0: 'local-lvm:vm-202-disk-0,size=8G', ide2: 'none,media=cdrom', boot: 'order=scsi0' } });
    const digest0 = (await call('GET', '/nodes/pve1/qemu/202/config')).body!.data.digest;
    await call('PUT', '/nodes/pve1/qemu/202/config', { ide2: 'local:iso/fcos.iso,media=cdrom', sata0: 'local:iso/fcos.iso,media=cdrom', boot: 'order=scsi0;ide2' });
    const current = (await call('GET', '/nodes/pve1/qemu/202/config', { current: '1' })).body!.data;
    expect(current.ide2).toBe('local:iso/fcos.iso,media=cdrom'); // live
    expect(current.sata0).toBeUndefined();
    expect(current.boot).toBe('order=scsi0');
    const merged = (await call('GET', '/nodes/pve1/qemu/202/config')).body!.data;
    expect(merged.sata0).toBe('local:iso/fcos.iso,media=cdrom');
    expect(merged.digest).not.toBe(digest0);
    const pending = (await call('GET', '/nodes/pve1/qemu/202/pending')).body!.data as { key: string; pending?: string }[];
    expect(pending.filter((p) => p.pending !== undefined).map((p) => p.key)).toEqual(['boot', 'sata0']);
    expect(pending.at(-1)?.key).toBe('digest');
    // A media-type change cannot be hot-plugged: PUT answers 400 and the value stays pending.
    const swap = await call('PUT', '/nodes/pve1/qemu/202/config', { ide2: 'local-lvm:1' });
    expect(swap.body?.errors).toEqual({ ide2: 'hotplug problem - unable to change media type' });
    await call('PUT', '/nodes/pve1/qemu/202/config', { revert: 'ide2' });
    await task((await call('POST', '/nodes/pve1/qemu/202/status/stop')).body!.data);
    expect((await task((await call('POST', '/nodes/pve1/qemu/202/status/start')).body!.data)).exitstatus).toBe('OK');
    const after = (await call('GET', '/nodes/pve1/qemu/202/config', { current: '1' })).body!.data;
    expect(after.boot).toBe('order=scsi0;ide2');
    expect(after.sata0).toBe('local:iso/fcos.iso,media=cdrom');
    expect((await task((await call('POST', '/nodes/pve1/qemu/202/status/start')).body!.data)).exitstatus).toBe('VM 202 already running');
  });

  it('checks boot devices, drops deleted drives from the order, and refuses changes to a locked VM', async () => {
    sim.cluster.addVm({ vmid: 203, config: { name: 'b', scsi0: 'local-lvm:vm-203-disk-0,size=8G', ide2: 'local:iso/fcos.iso,media=cdrom', boot: 'order=ide2;scsi0' } });
    const bad = await call('PUT', '/nodes/pve1/qemu/203/config', { boot: 'order=scsi0;sata3' });
    expect(bad).toMatchObject({ status: 500, body: { message: "invalid bootorder: device 'sata3' does not exist'\n" } });
    await call('PUT', '/nodes/pve1/qemu/203/config', { delete: 'ide2' });
    expect((await call('GET', '/nodes/pve1/qemu/203/config')).body!.data.boot).toBe('order=scsi0');
    sim.cluster.vms.get(203)!.config.lock = 'backup';
    expect((await call('POST', '/nodes/pve1/qemu/203/config', { name: 'x' })).body).toEqual({ data: null, message: 'VM is locked (backup)\n' });
  });

  it('downloads a URL into ISO storage with checksum, reuses an identical file, and refuses to overwrite another', async () => {
    const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}/x.iso`;
    const sha = createHash('sha256').update(ISO_BYTES).digest('hex');
    const params = { content: 'iso', filename: 'my image.iso', url, checksum: sha, 'checksum-algorithm': 'sha256' };
    const first = await task((await call('POST', '/nodes/pve1/storage/local/download-url', params)).body!.data);
    expect(first).toMatchObject({ exitstatus: 'OK', type: 'download', id: 'my_image.iso' });
    const again = await task((await call('POST', '/nodes/pve1/storage/local/download-url', params)).body!.data);
    expect(again.log).toContain('OK, got correct file already, no need to download');
    const noSum = await task((await call('POST', '/nodes/pve1/storage/local/download-url', { content: 'iso', filename: 'my image.iso', url })).body!.data);
    expect(noSum.exitstatus).toBe("refusing to override existing file '/var/lib/vz/template/iso/my_image.iso'");
    const ext = await call('POST', '/nodes/pve1/storage/local/download-url', { content: 'iso', filename: 'x.tar', url });
    expect(ext.body?.errors).toEqual({ filename: 'wrong file extension' });
    const lvm = await call('POST', '/nodes/pve1/storage/local-lvm/download-url', { content: 'iso', filename: 'x.iso', url });
    expect(lvm.status).toBe(500);
    const isos = (await call('GET', '/nodes/pve1/storage/local/content', { content: 'iso' })).body!.data as { volid: string; size: number }[];
    expect(isos.find((i) => i.volid === 'local:iso/my_image.iso')?.size).toBe(ISO_BYTES.length);
  });
});
