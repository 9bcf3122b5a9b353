// Takes the console screenshots in docs/images/ from the embedded default (standalone over a copy
// of examples/site with the in-process Proxmox VE simulator), in Debian's chromium.
// Run: hack/with-node.sh tsx hack/console-screenshots.ts
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { parseControllerConfig } from '../src/config/config.js';
import { prepareLocalHypervisor } from '../src/embedded/local-hypervisor.js';
import { converged } from '../src/embedded/summary.js';
import { silentLogger } from '../src/observability/logger.js';
import { runStandalone } from '../src/standalone.js';

const root = join(import.meta.dirname, '..');
const out = join(root, 'docs', 'images');
const site = mkdtempSync(join(tmpdir(), 'console-shots-'));
cpSync(join(root, 'examples', 'site'), site, { recursive: true, filter: (src) => !src.includes('.status') && !src.includes('.cache') && !src.endsWith('local-hypervisor.yaml') });
const log = silentLogger();
// Port 0 turns a server off, so pick free ports first.
const freePort = () => new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address() as { port: number };
    probe.close(() => resolve(free));
  });
});
const port = await freePort();
const bootPort = await freePort();
const local = await prepareLocalHypervisor('simulator', log);
writeFileSync(join(site, 'local-hypervisor.yaml'), local.manifests);
const running = await runStandalone(site, parseControllerConfig({
  leaderElect: false, metricsAddr: ':0', healthAddr: ':0', bootAddr: `127.0.0.1:${bootPort}`, consoleAddr: `127.0.0.1:${port}`,
  bootAssetCacheDir: join(site, '.cache'), consoleToken: 'screenshots-token-0123456789',
}), log);
const deadline = Date.now() + 60_000;
while (!converged(running.store) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));

// Some boot requests over half a minute, so the chart has bars (the console samples every 10 s).
for (let i = 0; i < 4; i++) {
  await Promise.all(Array.from({ length: 5 + i * 4 }, () => fetch(`http://127.0.0.1:${bootPort}/ipxe?mac=52:54:00:be:ef:01`).then((r) => r.text())));
  await fetch(`http://127.0.0.1:${bootPort}/ipxe?mac=not-a-mac`).then((r) => r.text());
  await new Promise((r) => setTimeout(r, 10_500));
}

const browser = await chromium.launch({ executablePath: process.env.BOOTPLANE_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
try {
  for (const scheme of ['light', 'dark'] as const) {
    const page = await browser.newPage({ viewport: { width: 1360, height: 760 }, colorScheme: scheme });
    const base = running.console!.url;
    await page.goto(`${base}/?token=${running.console!.token}`);
    await page.waitForSelector('body[data-fleet-rendered]');
    await page.screenshot({ path: join(out, `console-fleet-${scheme}.png`) });
    if (scheme === 'dark') continue;
    await page.goto(`${base}/#/vm/demo/okd-master-0`);
    await page.waitForSelector('ol.order li[data-slot="ide2"]');
    await page.dragAndDrop('ol.order li[data-slot="ide2"]', 'ol.order li[data-slot="scsi0"]');
    await page.click('button[data-action="preview-order"]');
    await page.waitForSelector('pre.diff');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(out, 'console-vm.png'), fullPage: true });
    await page.goto(`${base}/#/boot`);
    await page.fill('input[name=mac]', '52:54:00:be:ef:01');
    await page.click('button[type=submit]');
    await page.waitForFunction(() => document.querySelector('[data-testid=script]')?.textContent?.includes('#!ipxe'));
    await page.screenshot({ path: join(out, 'console-network-boot.png'), fullPage: true });
    await page.goto(`${base}/#/hypervisors`);
    await page.waitForSelector('[data-hypervisor]');
    await page.screenshot({ path: join(out, 'console-hypervisors.png'), fullPage: true });
    await page.close();
  }
} finally {
  await browser.close();
  await running.stop();
  await local.stop();
  rmSync(site, { recursive: true, force: true });
}
console.log(`screenshots written to ${out}`);
