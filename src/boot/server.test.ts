// HTTP behaviour of the boot server for good and bad input, over a real socket, with the store
// replaced by in-memory caches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeBootAssignment } from '../api/v1alpha1/node-boot-assignment.js';
import { CidrAllowlist, ClientRateLimiter, ConcurrencyCap } from './guard.js';
import { get, harness, MAC, type Harness } from './server-harness.test-support.js';

describe('boot server', () => {
  let h: Harness;
  beforeAll(async () => { h = await harness(); });
  afterAll(() => new Promise<void>((r) => h.http.close(() => r())));

  it('answers /boot.ipxe with a chain to the machine\'s own script on the Host it was asked on', async () => {
    const r = await get(h.port, '/boot.ipxe');
    expect(r.status).toBe(200);
    expect(r.body).toContain(`chain --autofree http://127.0.0.1:${h.port}/ipxe?mac=\${net0/mac}&uuid=\${uuid}`);
  });

  it('serves a machine its script by MAC in any usual spelling, and records the boot off the request path', async () => {
    for (const mac of [MAC, '52-54-00-12-34-56', MAC.toUpperCase()]) {
      const r = await get(h.port, `/ipxe?mac=${mac}&uuid=&arch=x86_64&platform=pcbios`);
      expect(r.status).toBe(200);
      expect(r.body).toContain('echo hello there');
    }
    expect(h.store.statusWrites.filter((w) => w.key === 'lab/node-1')).toHaveLength(0);
    await h.recorder.flush();
    const writes = h.store.statusWrites.filter((w) => w.key === 'lab/node-1');
    expect(writes).toHaveLength(1);
    expect(writes[0]!.status).toMatchObject({ bootCount: 3, lastBoot: { clientIP: '127.0.0.1', firmware: 'pcbios', arch: 'x86_64' } });
  });

  it('finds a machine by SMBIOS UUID when its MAC is unknown', async () => {
    const r = await get(h.port, '/ipxe?mac=52:54:00:ff:ff:ff&uuid=4c4c4544-0042-3510-8052-b3c04f4e4e31');
    expect(r.body).toContain('for by-uuid');
  });

  it('gives unknown and disabled machines the menu of public profiles, never an unattended one', async () => {
    for (const mac of ['52:54:00:ff:ff:fe', '52:54:00:00:00:02']) {
      const r = await get(h.port, `/ipxe?mac=${mac}&uuid=`);
      expect(r.status).toBe(200);
      expect(r.body).toContain('item p0 lab/rescue');
      expect(r.body).not.toContain('installer');
      expect(r.body).toContain('choose --default local');
    }
  });

  it('boots a boot-once machine once, then answers with its local boot (here 404)', async () => {
    expect((await get(h.port, '/ipxe?mac=52:54:00:00:00:01')).body).toContain('echo install');
    const second = await get(h.port, '/ipxe?mac=52:54:00:00:00:01');
    expect(second.status).toBe(404);
    await h.recorder.flush();
    expect(h.store.get<NodeBootAssignment>('NodeBootAssignment', 'lab/once-1')?.status?.bootOnceConsumedEpoch).toBe(1);
  });

  it('serves public profiles only, by name or namespace/name', async () => {
    expect((await get(h.port, '/boot/rescue.ipxe')).body).toContain('/boot/assets/lab/rescue/vmlinuz console=ttyS0');
    expect((await get(h.port, '/boot/lab/rescue.ipxe?platform=efi')).status).toBe(200);
    expect((await get(h.port, '/boot/lab/shell.ipxe')).status).toBe(404);
    expect((await get(h.port, '/boot/installer.ipxe')).status).toBe(404);
  });

  it('streams assets with Range support', async () => {
    const full = await get(h.port, '/boot/assets/lab/rescue/vmlinuz');
    expect(full.status).toBe(200);
    expect(full.body).toBe('0123456789abcdef');
    const part = await get(h.port, '/boot/assets/rescue/vmlinuz', { headers: { range: 'bytes=4-7' } });
    expect(part.status).toBe(206);
    expect(part.body).toBe('4567');
    expect(part.headers['content-range']).toBe('bytes 4-7/16');
    expect((await get(h.port, '/boot/assets/rescue/vmlinuz', { headers: { range: 'bytes=99-' } })).status).toBe(416);
    const head = await get(h.port, '/boot/assets/rescue/vmlinuz', { method: 'HEAD' });
    expect(head.headers['content-length']).toBe('16');
  });

  it('serves Ignition only through the signed URL placed in the machine\'s script', async () => {
    const script = (await get(h.port, '/ipxe?mac=52:54:00:00:00:03')).body;
    const url = /ignition\.config\.url=(\S+)/.exec(script)?.[1];
    expect(url).toMatch(/\/ignition\?mac=52:54:00:00:00:03&exp=\d+&sig=/);
    const path = url!.slice(url!.indexOf('/ignition'));
    const ok = await get(h.port, path);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('{"ignition":{"version":"3.4.0"}}');
    expect((await get(h.port, path.replace('sig=', 'sig=A').slice(0, -1))).status).toBe(403);
    expect((await get(h.port, path.replace('52:54:00:00:00:03', '52:54:00:12:34:56'))).status).toBe(403);
    expect((await get(h.port, '/ignition?mac=52:54:00:00:00:03')).status).toBe(403);
  });

  it.each([
    ['/ipxe?mac=52:54:00:12:34:56&', 'echo hello there'],
    ['/ipxe?&&mac=52:54:00:12:34:56&&uuid&arch=x86_64&', 'echo hello there'],
    ['/ipxe?uuid=4c4c4544-0042-3510-8052-b3c04f4e4e31&mac', 'for by-uuid'],
    ['/ipxe?mac=52%3A54%3A00%3A12%3A34%3A56&platform=efi', 'echo hello there'],
  ])('parses the query of %s (empty pairs skipped, a key without = is empty)', async (path, text) => {
    const r = await get(h.port, path);
    expect(r.status).toBe(200);
    expect(r.body).toContain(text);
  });

  it.each([
    ['/ipxe?mac=52:54:00:12:34', 400, 'mac'],
    ['/ipxe?mac=zz:54:00:12:34:56', 400, 'mac'],
    ['/ipxe?mac=52:54:00:12:34:56&uuid=not-a-uuid', 400, 'uuid'],
    ['/ipxe?mac=52:54:00:12:34:56&arch=%24%7Bshell%7D', 400, 'arch'],
    ['/ipxe?mac=52:54:00:12:34:56&platform=efi%0Ashell', 400, 'platform'],
    ['/ipxe?mac=52:54:00:12:34:56&mac=52:54:00:12:34:57', 400, 'more than once'],
    ['/ipxe?mac=52:54:00:12:34:56&evil=1', 400, 'unknown query parameter evil'],
    ['/ipxe?mac=%E0%A4%A', 400, 'percent-encoding'],
    ['/ipxe?mac=<500 characters>', 400, 'longer than'],
    ['/ipxe', 400, 'mac or uuid'],
    ['/ipxe?mac=<3000 characters>', 414, 'URL'],
    ['/boot/assets/lab/rescue/..%2F..%2Fetc%2Fpasswd', 400, 'asset file name'],
    ['/boot/assets/lab/../../etc/passwd', 404, 'no route'],
    ['/boot/assets/lab/..%2F..%2Fetc/passwd', 400, 'object name'],
    ['/boot/assets/lab/rescue/passwd', 404, 'no asset'],
    ['/etc/passwd', 404, 'no route'],
    ['/boot.ipxe?x=1', 400, 'no query'],
    ['/ipxe?macs=52:54:00:12:34:56', 400, 'unknown query parameter macs'],
    ['/ipxe?ma=52:54:00:12:34:56', 400, 'unknown query parameter ma'],
    ['/ipxe?mac=52:54:00:12:34:56&&mac', 400, 'more than once'],
    ['/ipxe?=52:54:00:12:34:56', 400, 'unknown query parameter ;'],
  ])('refuses %s with %i naming the problem', async (label, status, text) => {
    const path = label.replace(/<(\d+) characters>/, (_m, n: string) => 'a'.repeat(Number(n)));
    const r = await get(h.port, path);
    expect(r.status).toBe(status);
    expect(r.body).toContain(text);
  });

  it('refuses a parameter that would inject a command, naming it, without echoing the value', async () => {
    const r = await get(h.port, '/ipxe?mac=52:54:00:00:00:99');
    expect(r.status).toBe(500);
    expect(r.body).toContain('parameter greeting');
    expect(r.body).not.toContain('evil');
  });

  it('refuses other methods, huge headers and a bad Host', async () => {
    expect((await get(h.port, '/boot.ipxe', { method: 'POST' })).status).toBe(405);
    expect((await get(h.port, '/boot.ipxe', { headers: { 'x-big': 'a'.repeat(20_000) } })).status).toBe(431);
    expect((await get(h.port, '/boot.ipxe', { headers: { host: 'evil.example/`x`' } })).status).toBe(400);
  });

  it('renders DHCP configuration for a vendor from the cached assignments', async () => {
    const r = await get(h.port, '/api/v1/boot/network-config?vendor=dnsmasq');
    expect(r.status).toBe(200);
    expect(r.body).toContain(`dhcp-boot=tag:ipxe,http://127.0.0.1:${h.port}/boot.ipxe`);
    expect(r.body).toContain('dhcp-host=52:54:00:12:34:56');
    expect(r.body).not.toContain('52:54:00:00:00:02');
    expect((await get(h.port, '/api/v1/boot/network-config?vendor=cisco')).status).toBe(400);
    expect((await get(h.port, '/api/v1/boot/network-config?vendor=kea', { headers: { host: 'boot.example:8082' } })).status).toBe(409);
  });

  it('reports statistics', async () => {
    const r = await get(h.port, '/api/v1/boot/stats');
    const stats = JSON.parse(r.body) as { requests: number; assignments: { total: number }; bootsByProfile: Record<string, number>; renderFailures: number };
    expect(stats.assignments.total).toBe(6);
    expect(stats.bootsByProfile['lab/shell']).toBeGreaterThanOrEqual(3);
    expect(stats.renderFailures).toBeGreaterThanOrEqual(1);
  });
});

describe('boot server guard rails', () => {
  it('answers a flood from one address with 429 while other clients keep booting', async () => {
    const h = await harness({ rateLimiter: new ClientRateLimiter(1, 5) });
    try {
      const codes = await Promise.all(Array.from({ length: 30 }, () => get(h.port, '/boot.ipxe').then((r) => r.status)));
      expect(codes.filter((c) => c === 200)).toHaveLength(5);
      expect(codes.filter((c) => c === 429)).toHaveLength(25);
      const limited = await get(h.port, '/boot.ipxe');
      expect(limited.headers['retry-after']).toBeDefined();
      expect((await get(h.port, '/boot.ipxe', { localAddress: '127.0.0.2' })).status).toBe(200);
    } finally {
      h.http.close();
    }
  });

  it('refuses addresses outside the allowlist', async () => {
    const h = await harness({ allowlist: new CidrAllowlist(['127.0.0.2/32']) });
    try {
      expect((await get(h.port, '/boot.ipxe')).status).toBe(403);
      expect((await get(h.port, '/boot.ipxe', { localAddress: '127.0.0.2' })).status).toBe(200);
    } finally {
      h.http.close();
    }
  });

  it('answers 503 beyond the concurrency cap', async () => {
    const cap = new ConcurrencyCap(1);
    cap.tryAcquire(); // one request "in flight"
    const h = await harness({ concurrency: cap });
    try {
      expect((await get(h.port, '/boot.ipxe')).status).toBe(503);
      cap.release();
      expect((await get(h.port, '/boot.ipxe')).status).toBe(200);
    } finally {
      h.http.close();
    }
  });
});
