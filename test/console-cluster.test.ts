// The web console against the real control plane, in a real browser: people sign in with their
// own bearer tokens; a kubectl change reaches an open page within 2 s without reload; a boot
// order dragged into place is written to spec with the person's token and the VM converges; a
// ServiceAccount allowed get/list in one namespace sees only that namespace and is refused an
// action with who, what and which permission; an Argo CD-managed VM gets the YAML, not a write.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './support/browser.js';
import { createNamespace, eventually, getJson, kubectl, kubectlOk } from './support/kube.js';
import { CONTROL_PLANE_STATE } from './support/paths.js';
import { freePort } from './support/ports.js';
import { startProxmoxSite, stopProxmoxSite, type ProxmoxSite } from './support/proxmox.js';

let site: ProxmoxSite;
let otherNs: string;
let consoleUrl: string;
let browser: Browser;
let admin: Page;
const adminToken = readFileSync(join(CONTROL_PLANE_STATE, 'pki', 'admin.token'), 'utf8').trim();

function vmYaml(ns: string, name: string, vmid: number, hv: string, extra = ''): string {
  return `apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: ${vmid}}
${extra}`;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(consoleUrl);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('body[data-fleet-rendered]');
}

const ready = async (ns: string, name: string) =>
  (await getJson<{ status?: { conditions?: { type: string; status: string }[] } }>(['get', 'vm', name, '-n', ns])).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

beforeAll(async () => {
  const port = await freePort();
  consoleUrl = `http://127.0.0.1:${port}`;
  site = await startProxmoxSite('console', (sim) => {
    sim.cluster.addIso('local:iso/debian-12.iso');
    for (const vmid of [701, 702, 703]) {
      sim.cluster.addVm({ vmid, config: { name: `console-${vmid}`, ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, ide2: 'none,media=cdrom', net0: `virtio=BC:24:11:00:07:${vmid - 700},bridge=vmbr0`, boot: 'order=scsi0' } });
    }
  }, { consoleAddr: `127.0.0.1:${port}` });
  otherNs = await createNamespace('console-other');
  await kubectlOk(['apply', '-f', '-'], [
    vmYaml(site.ns, 'web-1', 701, site.hv),
    vmYaml(site.ns, 'web-2', 702, site.hv),
    vmYaml(otherNs, 'secret-project', 703, site.hv),
  ].join('---\n'));
  await eventually(async () => (await ready(site.ns, 'web-1')) && (await ready(site.ns, 'web-2')) && ready(otherNs, 'secret-project'), 'VMs Ready', 60_000, 250);
  browser = await launchBrowser();
  admin = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await signIn(admin, adminToken);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await kubectl(['delete', 'nodebootassignments,bootprofiles,vm', '--all', '-n', otherNs, '--timeout=60s']);
  await stopProxmoxSite(site, 'isoattachments,virtualmachines');
  await kubectl(['delete', 'namespace', otherNs, '--wait=false']);
});

describe('the console against the real control plane', () => {
  it('refuses a token the API server does not accept, and every API call without a session', async () => {
    expect((await fetch(`${consoleUrl}/api/fleet`)).status).toBe(401);
    const res = await fetch(`${consoleUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'not-a-real-token-at-all-0123456789' }) });
    expect(res.status).toBe(401);
  });

  it('lists every VM for a cluster admin', async () => {
    const names = await admin.locator('.vbody .c-name a').allTextContents();
    expect(names).toEqual(expect.arrayContaining(['web-1', 'web-2', 'secret-project']));
  });

  it('shows a change made with kubectl in the open page within 2 s, without reload', async () => {
    await admin.evaluate(() => { (window as unknown as { marker: number }).marker = 1; });
    await kubectlOk(['annotate', 'vm', 'web-2', '-n', site.ns, 'argocd.argoproj.io/tracking-id=fleet-app:bootplane.io/VirtualMachine:ns/web-2']);
    const changedAt = Date.now();
    await admin.waitForFunction(() => [...document.querySelectorAll('.vbody .vrow')].some((r) => r.textContent?.includes('web-2') && r.textContent.includes('Argo CD')), undefined, { timeout: 2_000 });
    expect(Date.now() - changedAt).toBeLessThan(2_000);
    expect(await admin.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1); // same page, not reloaded
  });

  it('writes a dragged boot order to spec with the person\'s token, and the VM converges', async () => {
    await admin.goto(`${consoleUrl}/#/vm/${site.ns}/web-1`);
    await admin.waitForSelector('ol.order li[data-slot="net0"]');
    await admin.dragAndDrop('ol.order li[data-slot="net0"]', 'ol.order li[data-slot="scsi0"]');
    const order = await admin.locator('ol.order li').evaluateAll((els) => els.map((e) => e.getAttribute('data-slot')));
    expect(order[0]).toBe('net0');
    const wanted: (string | null)[] = ['net0', 'scsi0'];
    for (const slot of order) if (!wanted.includes(slot)) await admin.click(`button[aria-label="Remove ${slot} from the boot order"]`);
    await admin.click('button[data-action="preview-order"]');
    expect(await admin.locator('pre.diff').textContent()).toContain('+ ');
    await admin.click('.change button.primary');
    await admin.waitForSelector('.change p.ok');
    const vm = await getJson<{ spec: { bootOrder?: { devices?: string[] } }; metadata: { managedFields?: { manager: string }[] } }>(['get', 'vm', 'web-1', '-n', site.ns, '--show-managed-fields']);
    expect(vm.spec.bootOrder?.devices).toEqual(['net0', 'scsi0']);
    await eventually(async () => (await getJson<{ status?: { bootOrder?: string[] } }>(['get', 'vm', 'web-1', '-n', site.ns])).status?.bootOrder?.join(';') === 'net0;scsi0', 'web-1 converged', 30_000, 250);
    expect(site.sim.cluster.vms.get(701)!.config.boot).toBe('order=net0;scsi0');
    await admin.waitForFunction(() => document.querySelector('.facts')?.textContent?.includes('net0,scsi0'), undefined, { timeout: 5_000 });
  });

  it('boots a VM once from the network by re-arming its NodeBootAssignment, and the VM turns network-first', async () => {
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: BootProfile
metadata: {name: shell, namespace: ${otherNs}}
spec: {type: ipxeTemplate, ipxeTemplate: "shell"}
---
apiVersion: bootplane.io/v1alpha1
kind: NodeBootAssignment
metadata: {name: secret-project-pxe, namespace: ${otherNs}}
spec: {vmRef: {name: secret-project}, profileRef: {name: shell}, state: Disabled}
`);
    await admin.goto(`${consoleUrl}/#/vm/${otherNs}/secret-project`);
    await admin.waitForSelector('text=secret-project-pxe');
    await admin.click('text=Boot once from network');
    await admin.waitForSelector('[data-testid=effect]');
    expect(await admin.locator('[data-testid=effect]').textContent()).toContain('set the boot order to net0');
    await admin.click('.change button.primary');
    await admin.waitForSelector('.change p.ok');
    const assignment = await getJson<{ spec: { bootMode?: string; state?: string; bootOnceEpoch?: number } }>(['get', 'nodebootassignment', 'secret-project-pxe', '-n', otherNs]);
    expect(assignment.spec).toMatchObject({ bootMode: 'Once', state: 'Enabled', bootOnceEpoch: 1 });
    await eventually(async () => (await getJson<{ status?: { bootOrder?: string[] } }>(['get', 'vm', 'secret-project', '-n', otherNs])).status?.bootOrder?.[0] === 'net0', 'secret-project boots from the network first', 30_000, 250);
  });

  it('offers the YAML to commit instead of writing to an Argo CD-managed VM', async () => {
    await admin.goto(`${consoleUrl}/#/vm/${site.ns}/web-2`);
    await admin.waitForSelector('select[aria-label="Boot order preset"]');
    await admin.selectOption('select[aria-label="Boot order preset"]', 'cdrom_hd');
    await admin.click('text=Preview preset');
    await admin.waitForSelector('text=YAML to commit');
    expect(await admin.locator('.change').textContent()).toContain('Argo CD');
    expect(await admin.locator('.change pre.yaml').textContent()).toContain('preset: cdrom_hd');
    expect(await admin.locator('.change button.primary').count()).toBe(0);
    const vm = await getJson<{ spec: { bootOrder?: { preset?: string } } }>(['get', 'vm', 'web-2', '-n', site.ns]);
    expect(vm.spec.bootOrder?.preset).toBeUndefined();
  });

  it('shows a person allowed get/list in one namespace only that namespace, and refuses their action clearly', async () => {
    const ns = site.ns;
    await kubectlOk(['create', 'serviceaccount', 'viewer', '-n', ns]);
    await kubectlOk(['create', 'role', 'vm-viewer', '-n', ns, '--verb=get,list,watch', '--resource=virtualmachines.bootplane.io,isoattachments.bootplane.io']);
    await kubectlOk(['create', 'rolebinding', 'vm-viewer', '-n', ns, '--role=vm-viewer', `--serviceaccount=${ns}:viewer`]);
    // TokenRequest: the test control plane runs no controller-manager to mint Secret-based tokens.
    const token = (await kubectlOk(['create', 'token', 'viewer', '-n', ns, '--duration=10m'])).trim();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await signIn(page, token);
    expect(await page.locator('header .user').textContent()).toBe(`system:serviceaccount:${ns}:viewer`);
    const names = await page.locator('.vbody .c-name a').allTextContents();
    expect(names.map((n) => n.replace('Argo CD', '')).sort()).toEqual(['web-1', 'web-2']);
    const forbidden = await page.evaluate(async (other) => (await fetch(`/api/vm/${other}/secret-project`)).status, otherNs);
    expect(forbidden).toBe(403);

    await page.goto(`${consoleUrl}/#/vm/${ns}/web-1`);
    await page.waitForSelector('select[aria-label="Boot order preset"]');
    await page.selectOption('select[aria-label="Boot order preset"]', 'cdrom_hd');
    await page.click('text=Preview preset');
    await page.click('.change button.primary');
    const refusal = await page.locator('.refusal').textContent({ timeout: 10_000 });
    expect(refusal).toContain('Refused');
    expect(refusal).toContain(`system:serviceaccount:${ns}:viewer`);
    expect(refusal).toContain('"patch"');
    expect(refusal).toContain('virtualmachines');
    const vm = await getJson<{ spec: { bootOrder?: { devices?: string[]; preset?: string } } }>(['get', 'vm', 'web-1', '-n', ns]);
    expect(vm.spec.bootOrder).toEqual({ devices: ['net0', 'scsi0'] }); // unchanged
    await context.close();
  });
});
