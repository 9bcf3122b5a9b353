// The real client against the PVE simulator over real HTTPS: auth, TLS trust, envelopes and
// errors, tasks, digests, retries and timeouts. The simulator checks every request and reply
// against the official schema; no test may leave a schema violation behind.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PveSimulator } from '../simulator/server.js';
import type { ProxmoxClient } from './api.js';
import { createProxmoxClient, type ProxmoxConnectionOptions } from './create.js';
import { PveApiError } from './errors.js';

const TOKEN_ID = 'root@pam!bootplane';
const TOKEN_SECRET = '5b0e3f3c-7d0a-4bb8-9d53-2c1d1e6f0a11';
let sim: PveSimulator;
const clients: ProxmoxClient[] = [];

function client(overrides: Partial<ProxmoxConnectionOptions> = {}): ProxmoxClient {
  const c = createProxmoxClient({
    endpoint: sim.endpoint,
    credentials: { kind: 'token', tokenId: TOKEN_ID, secret: TOKEN_SECRET },
    tls: { ca: sim.certificate.cert },
    requestTimeoutMs: 2_000,
    retryBaseMs: 10,
    ...overrides,
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  sim = new PveSimulator({ nodes: ['pve1', 'pve2'] });
  sim.auth.addToken(TOKEN_ID, TOKEN_SECRET);
  sim.auth.addUser('admin@pve', 'correct horse');
  sim.cluster.addIso('local:iso/debian-12.iso');
  sim.cluster.addVm({ vmid: 100, node: 'pve1', config: { name: 'web', cores: 2, memory: '2048', ostype: 'l26', scsi0: 'local-lvm:vm-100-disk-0,size=32G', ide2: 'local-lvm:vm-100-cloudinit,media=cdrom', boot: 'order=scsi0;net0', net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0' } });
  await sim.start();
});

afterEach(() => {
  sim.faults.reset();
  expect(sim.schemaViolations).toEqual([]);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sim.stop();
});

describe('Proxmox client', () => {
  it('authenticates with an API token, verifying the server against its CA', async () => {
    const c = client();
    expect((await c.version()).version).toMatch(/^9\./);
    expect((await c.nodes()).map((n) => n.node)).toEqual(['pve1', 'pve2']);
  });

  it('logs in for a ticket once, sends CSRF on writes, and reuses the ticket', async () => {
    const c = client({ credentials: { kind: 'ticket', username: 'admin@pve', password: 'correct horse' } });
    const before = sim.auth.logins;
    await c.version();
    const upid = await c.node('pve1').qemu(100).config.update({ set: { description: 'via ticket' } });
    expect(upid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmconfig:100:admin@pve:$/);
    expect(sim.auth.logins - before).toBe(1);
  });

  it('reports a wrong token as AuthenticationFailed without echoing the secret', async () => {
    const secret = 'ffffffff-0000-0000-0000-000000000000';
    const c = client({ credentials: { kind: 'token', tokenId: TOKEN_ID, secret } });
    const err = await c.version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveApiError);
    expect((err as PveApiError).code).toBe('AuthenticationFailed');
    expect((err as PveApiError).message).toContain('401 Authentication failed!');
    expect((err as Error).message).not.toContain(secret);
  });

  it('refuses a server its CA did not sign, and a wrong pinned fingerprint, naming both fingerprints', async () => {
    const other = new PveSimulator();
    await expect(client({ tls: { ca: other.certificate.cert } }).version()).rejects.toMatchObject({ code: 'TLSVerificationFailed' });
    const wrong = other.certificate.fingerprintSHA256;
    const err = await client({ tls: { fingerprintSHA256: wrong } }).version().catch((e: unknown) => e) as Error & { code: string };
    expect(err.code).toBe('TLSFingerprintMismatch');
    expect(err.message).toContain(wrong);
    expect(err.message).toContain(sim.certificate.fingerprintSHA256);
    expect((await client({ tls: { fingerprintSHA256: sim.certificate.fingerprintSHA256.toLowerCase() } }).version()).release).toBe('9.1');
    expect((await client({ tls: { insecureSkipVerify: true } }).version()).release).toBe('9.1');
  });

  it('reads a config typed as PVE prints it, with a digest', async () => {
    const config = await client().node('pve1').qemu(100).config.get();
    expect(config.cores).toBe(2);
    expect(config.memory).toBe('2048');
    expect(config.digest).toMatch(/^[0-9a-f]{40}$/);
  });

  it('turns a stale digest into DigestMismatch and a missing VM into VmNotFound (both 500s in PVE)', async () => {
    const c = client();
    const vm = c.node('pve1').qemu(100);
    const { digest } = await vm.config.get();
    await vm.config.set({ set: { description: 'changed by someone else' } });
    const err = await vm.config.update({ set: { description: 'mine' }, digest: digest as string }).catch((e: unknown) => e) as PveApiError;
    expect(err.code).toBe('DigestMismatch');
    expect(err.status).toBe(500);
    await expect(c.node('pve2').qemu(100).config.get()).rejects.toMatchObject({ code: 'VmNotFound', status: 500 });
  });

  it('carries PVE parameter errors by name', async () => {
    const err = await client().node('pve1').qemu(100).config.set({ set: { ide3: 'local:iso/debian-12.iso' } }).catch((e: unknown) => e) as PveApiError;
    expect(err.status).toBe(400);
    expect(err.paramErrors).toEqual({ ide3: "explicit 'media=cdrom' is required for iso images" });
    const unknown = await client().node('pve1').qemu(100).config.set({ set: { nonsense: '1' } }).catch((e: unknown) => e) as PveApiError;
    expect(unknown.paramErrors?.nonsense).toContain('property is not defined in schema');
  });

  it('follows a task to its end and reads its log', async () => {
    const c = client();
    sim.faults.taskDurationMs = 50;
    const upid = await c.node('pve1').qemu(100).config.update({ set: { ide0: 'local:iso/debian-12.iso,media=cdrom' } });
    expect((await c.taskStatus(upid)).status).toBe('running');
    await sim.settle();
    const done = await c.taskStatus(upid);
    expect(done).toMatchObject({ status: 'stopped', exitstatus: 'OK', type: 'qmconfig', user: 'root@pam', tokenid: 'bootplane' });
    expect((await c.taskLog(upid)).at(-1)?.t).toBe('TASK OK');
  });

  it('retries an idempotent read through transient 503s, but never a POST', async () => {
    const c = client();
    sim.faults.failCalls({ method: 'GET', path: /^\/version$/, status: 503, message: 'Service Unavailable', times: 2 });
    expect((await c.version()).release).toBe('9.1');
    sim.faults.failCalls({ method: 'POST', path: /\/config$/, status: 503, message: 'Service Unavailable', times: 1 });
    await expect(c.node('pve1').qemu(100).config.update({ set: { description: 'x' } })).rejects.toMatchObject({ code: 'Unavailable', status: 503 });
  });

  it('times out a call that never answers, and honours the caller\'s abort', async () => {
    const c = client({ requestTimeoutMs: 300, maxAttempts: 1 });
    sim.faults.hangCalls({ path: /^\/version$/, times: 1 });
    await expect(c.version()).rejects.toMatchObject({ code: 'Timeout' });
    sim.faults.hangCalls({ path: /^\/nodes$/, times: 1 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('reconcile cancelled')), 50);
    await expect(c.nodes({ signal: abort.signal })).rejects.toThrow('reconcile cancelled');
  });

  it('times out a write PVE applied whose reply was lost; the config shows it applied', async () => {
    const c = client({ requestTimeoutMs: 300, maxAttempts: 1 });
    sim.cluster.addVm({ vmid: 102, node: 'pve1', config: { name: 'lost-reply' } });
    sim.faults.hangCalls({ method: 'PUT', path: /\/qemu\/102\/config$/, times: 1, afterHandling: true });
    await expect(c.node('pve1').qemu(102).config.set({ set: { description: 'landed' } })).rejects.toMatchObject({ code: 'Timeout' });
    expect((await c.node('pve1').qemu(102).config.get()).description).toBe('landed');
  });

  it('caps concurrent tasks per node until their status is seen stopped', async () => {
    const c = createProxmoxClient({ endpoint: sim.endpoint, credentials: { kind: 'token', tokenId: TOKEN_ID, secret: TOKEN_SECRET }, tls: { ca: sim.certificate.cert }, maxConcurrentTasksPerNode: 1 });
    clients.push(c);
    sim.cluster.addVm({ vmid: 101, node: 'pve1', config: { name: 'a' } });
    const first = await c.node('pve1').qemu(101).status.start();
    let secondStarted = false;
    const second = c.node('pve1').qemu(100).config.update({ set: { description: 'queued' } }).then((u) => { secondStarted = true; return u; });
    await new Promise((r) => setTimeout(r, 100));
    expect(secondStarted).toBe(false);
    await sim.settle();
    await c.taskStatus(first);
    expect(await second).toMatch(/qmconfig/);
  });
});
