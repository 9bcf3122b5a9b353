// The web console of the embedded default (standalone over examples/site with the Proxmox VE
// simulator), in a real browser: no token is a 401, the fleet lists the examples, a boot order
// dragged into place lands in the manifest file with its comments kept and the VM converges,
// the open page follows without reload, and the Network boot view shows the boot server's bytes.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { launchBrowser } from './support/browser.js';
import { ControllerProcess } from './support/controller-process.js';
import { eventually } from './support/kube.js';
import { ROOT } from './support/paths.js';
import { freePort } from './support/ports.js';

const TOKEN = 'console-test-token-0123456789';
let site: string;
let consoleUrl: string;
let bootUrl: string;
let bootplane: ControllerProcess;
let browser: Browser;
let page: Page;

function status(kind: string, name: string): { conditions?: { type: string; status: string }[]; bootOrder?: string[] } | undefined {
  try {
    return (parse(readFileSync(join(site, '.status', kind, 'demo', `${name}.status`), 'utf8')) as { status?: ReturnType<typeof status> }).status;
  } catch {
    return undefined;
  }
}
const ready = (name: string) => status('VirtualMachine', name)?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

beforeAll(async () => {
  site = mkdtempSync(join(tmpdir(), 'console-standalone-'));
  cpSync(join(ROOT, 'examples', 'site'), site, { recursive: true, filter: (src) => !src.includes('.status') && !src.endsWith('local-hypervisor.yaml') && !src.includes('.cache') });
  const consolePort = await freePort();
  const bootPort = await freePort();
  consoleUrl = `http://127.0.0.1:${consolePort}`;
  bootUrl = `http://127.0.0.1:${bootPort}`;
  bootplane = new ControllerProcess('console-standalone', {
    dir: site, 'local-hypervisor': 'simulator', 'boot-addr': `127.0.0.1:${bootPort}`, 'console-addr': `127.0.0.1:${consolePort}`, 'console-token': TOKEN,
  }, undefined, 'standalone');
  await eventually(async () => ready('okd-master-0') && ready('debian-web'), 'the demo VMs Ready', 90_000, 500);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await bootplane?.kill('SIGTERM');
  rmSync(site, { recursive: true, force: true });
});

describe('the console in standalone mode', () => {
  it('answers 401 without the token, and takes it once as ?token= before a cookie carries the session', async () => {
    expect((await fetch(`${consoleUrl}/`)).status).toBe(401);
    expect((await fetch(`${consoleUrl}/api/fleet`)).status).toBe(401);
    expect((await fetch(`${consoleUrl}/?token=wrong-token-0000000000`, { redirect: 'manual' })).status).toBe(401);
    const signIn = await fetch(`${consoleUrl}/?token=${TOKEN}`, { redirect: 'manual' });
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/');
    const cookie = signIn.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const session = cookie.split(';')[0]!;
    const fleet = await fetch(`${consoleUrl}/api/fleet`, { headers: { cookie: session } });
    expect(fleet.status).toBe(200);
    // Writes need the CSRF header as well as the cookie.
    const forged = await fetch(`${consoleUrl}/api/actions/apply`, { method: 'POST', headers: { cookie: session, 'content-type': 'application/json' }, body: JSON.stringify({ action: 'bootOnceNetwork', namespace: 'demo', name: 'debian-web' }) });
    expect(forged.status).toBe(403);
  });

  it('serves a strict CSP and hashed assets with long-lived caching', async () => {
    const signIn = await fetch(`${consoleUrl}/?token=${TOKEN}`, { redirect: 'manual' });
    const res = await fetch(`${consoleUrl}/`, { headers: { cookie: signIn.headers.get('set-cookie')!.split(';')[0]! } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/); // no inline script
    const script = /src="(\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${consoleUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('lists the examples in the fleet view', async () => {
    await page.goto(`${consoleUrl}/?token=${TOKEN}`);
    await page.waitForSelector('body[data-fleet-rendered]');
    const names = await page.locator('.vbody .c-name a').allTextContents();
    expect(names.map((n) => n.replace(/Argo CD|Flux/, ''))).toEqual(['debian-web', 'okd-master-0']);
    await page.fill('input[type=search]', 'fedora-coreos');
    await expect.poll(() => page.locator('.vbody .vrow').count()).toBe(1);
    await page.fill('input[type=search]', '');
  });

  it('writes a boot order dragged into place to the manifest file, comments kept, and the VM converges while the page follows', async () => {
    const file = join(site, 'local-hypervisor.yaml');
    const before = readFileSync(file, 'utf8');
    const comments = before.split('\n').filter((l) => l.trimStart().startsWith('#'));
    expect(comments.length).toBeGreaterThan(2);

    await page.goto(`${consoleUrl}/#/vm/demo/okd-master-0`);
    await page.waitForSelector('ol.order li[data-slot="ide2"]');
    expect(await page.locator('ol.order li').evaluateAll((els) => els.map((e) => e.getAttribute('data-slot')))).toEqual(['scsi0', 'ide0', 'ide2', 'sata0', 'net0']);
    // The keyboard alternative moves an item too.
    await page.focus('ol.order li[data-slot="net0"]');
    await page.keyboard.press('Alt+ArrowUp');
    expect(await page.locator('ol.order li').evaluateAll((els) => els.map((e) => e.getAttribute('data-slot')))).toEqual(['scsi0', 'ide0', 'ide2', 'net0', 'sata0']);
    await page.getByRole('button', { name: 'Reset', exact: true }).click(); // the button: a condition message may say "reset" too
    await page.dragAndDrop('ol.order li[data-slot="ide2"]', 'ol.order li[data-slot="scsi0"]');
    expect(await page.locator('ol.order li').evaluateAll((els) => els.map((e) => e.getAttribute('data-slot')))).toEqual(['ide2', 'scsi0', 'ide0', 'sata0', 'net0']);
    // Remove cloud-init and the NIC from the order: boot the installer, then the disks.
    await page.click('button[aria-label="Remove net0 from the boot order"]');
    await page.click('button[aria-label="Remove sata0 from the boot order"]');
    await page.click('button[data-action="preview-order"]');
    const diff = await page.locator('pre.diff').textContent();
    expect(diff).toContain('- ');
    expect(diff).toContain('+ ');
    expect(diff).toContain('ide2');
    await page.click('.change button.primary');
    await page.waitForSelector('.change p.ok');

    const after = readFileSync(file, 'utf8');
    for (const line of comments) expect(after).toContain(line);
    const okd = parse(after.split(/^---$/m).find((d) => d.includes('name: okd-master-0'))!) as { spec: { bootOrder: { devices?: string[]; preset?: string } } };
    expect(okd.spec.bootOrder).toEqual({ devices: ['ide2', 'scsi0', 'ide0'] });
    // The controller converges the VM, and the open page shows it without a reload.
    await eventually(async () => status('VirtualMachine', 'okd-master-0')?.bootOrder?.join(',') === 'ide2,scsi0,ide0', 'the VM converged to the new boot order', 30_000, 200);
    await page.waitForFunction(() => document.querySelector('.facts')?.textContent?.includes('ide2,scsi0,ide0'), undefined, { timeout: 2_000 });
  });

  it('attaches an ISO chosen from the hypervisor\'s list, previewing where the planner puts it, then ejects it', async () => {
    const file = join(site, 'local-hypervisor.yaml');
    const comments = readFileSync(file, 'utf8').split('\n').filter((l) => l.trimStart().startsWith('#'));
    await page.goto(`${consoleUrl}/#/vm/demo/debian-web`);
    await page.waitForSelector('select[aria-label="ISO volume"]');
    await page.selectOption('select[aria-label="ISO volume"]', 'local:iso/debian-12-netinst.iso');
    await page.selectOption('select[aria-label="Slot"]', 'auto');
    await page.click('text=Preview attach');
    await page.waitForSelector('[data-testid=effect]');
    const effect = await page.locator('[data-testid=effect]').textContent();
    const slot = /attach local:iso\/debian-12-netinst\.iso at (\w+)/.exec(effect ?? '')?.[1];
    expect(slot).toBeDefined();
    await page.click('.change button.primary');
    await page.waitForSelector('.change p.ok');
    const added = readFileSync(file, 'utf8');
    expect(added).toContain('name: debian-web-debian-12-netinst');
    for (const line of comments) expect(added).toContain(line);
    const devicesNow = () => (status('VirtualMachine', 'debian-web') as { devices?: { slot: string; volume?: string }[] } | undefined)?.devices ?? [];
    await eventually(async () => devicesNow().some((d) => d.slot === slot && d.volume === 'local:iso/debian-12-netinst.iso'), 'the ISO on the VM at the previewed slot', 30_000, 200);
    await eventually(async () => status('VirtualMachine', 'debian-web') && (parse(readFileSync(join(site, '.status', 'IsoAttachment', 'demo', 'debian-web-debian-12-netinst.status'), 'utf8')) as { status?: { phase?: string; slot?: string } }).status?.slot === slot, 'the ISO attached where the preview said', 30_000, 200);
    // The open page lists it; eject takes it out again.
    await page.waitForSelector('text=debian-web-debian-12-netinst');
    await page.locator('tr', { hasText: 'debian-web-debian-12-netinst' }).locator('button').click();
    await page.click('.change button.primary');
    await page.waitForSelector('.change p.ok');
    const removed = readFileSync(file, 'utf8');
    expect(removed).not.toContain('name: debian-web-debian-12-netinst');
    for (const line of comments) expect(removed).toContain(line);
    const devices = () => (status('VirtualMachine', 'debian-web') as { devices?: { volume?: string }[] } | undefined)?.devices ?? [];
    await eventually(async () => !devices().some((d) => d.volume === 'local:iso/debian-12-netinst.iso'), 'the ISO taken out of the VM', 30_000, 200);
  });

  it('shows the exact script the boot server answers for a MAC', async () => {
    const served = await (await fetch(`${bootUrl}/ipxe?mac=52:54:00:be:ef:01`)).text();
    await page.goto(`${consoleUrl}/#/boot`);
    await page.waitForSelector('text=demo-node');
    const shown = await page.evaluate(async (serverUrl) => (await fetch(`/api/boot/script?mac=52:54:00:be:ef:01&serverUrl=${encodeURIComponent(serverUrl)}`)).text(), bootUrl);
    expect(shown).toBe(served);
    await page.fill('input[name=mac]', '52:54:00:be:ef:01');
    await page.click('button[type=submit]');
    await expect.poll(() => page.locator('[data-testid=script]').textContent()).toContain('#!ipxe');
  });

  it('never sends a Secret value', async () => {
    const secret = /tokenSecret: "([^"]+)"/.exec(readFileSync(join(site, 'local-hypervisor.yaml'), 'utf8'))![1]!;
    const bodies = await page.evaluate(async () => Promise.all(['/api/fleet', '/api/boot', '/api/hypervisors', '/api/vm/demo/okd-master-0', '/api/vm/demo/debian-web'].map(async (p) => (await fetch(p)).text())));
    for (const body of bodies) expect(body).not.toContain(secret);
  });
});
