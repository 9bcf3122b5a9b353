// The embedded default (`npm start`): standalone mode over examples/site with the in-process
// Proxmox VE simulator — VMs converge, an ISO is attached with cloud-init relocated, boot
// orders are set, an iPXE script is served for a MAC, and a summary says so.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ControllerProcess } from './support/controller-process.js';
import { eventually } from './support/kube.js';
import { ROOT } from './support/paths.js';

let site: string;
let port: number;
let bootplane: ControllerProcess;
let stderr = '';

interface Record {
  status?: { conditions?: { type: string; status: string }[]; cloudInitSlot?: string; bootOrder?: string[]; devices?: { slot: string; kind: string; volume?: string }[]; slot?: string; cloudInitRelocation?: { from: string; to: string } };
}
function record(kind: string, name: string): Record | undefined {
  try {
    return parse(readFileSync(join(site, '.status', kind, 'demo', `${name}.status`), 'utf8')) as Record;
  } catch {
    return undefined;
  }
}
const isReady = (kind: string, name: string) => record(kind, name)?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

beforeAll(() => {
  site = mkdtempSync(join(tmpdir(), 'bp-embedded-'));
  cpSync(join(ROOT, 'examples', 'site'), site, { recursive: true, filter: (src) => !src.includes('.status') && !src.endsWith('local-hypervisor.yaml') });
  port = 20000 + Math.floor(Math.random() * 20000);
  bootplane = new ControllerProcess('embedded', { dir: site, 'local-hypervisor': 'simulator', 'boot-addr': `127.0.0.1:${port}` }, undefined, 'standalone');
  bootplane.onStderr = (text) => { stderr += text; };
});

afterAll(async () => {
  await bootplane?.kill('SIGTERM');
  rmSync(site, { recursive: true, force: true });
});

describe('the embedded default on the Proxmox VE simulator', () => {
  it('converges both VMs within a minute: ISO on ide2, cloud-init moved out of its way, boot orders set', async () => {
    await eventually(async () => isReady('VirtualMachine', 'okd-master-0') && isReady('VirtualMachine', 'debian-web') && isReady('IsoAttachment', 'fcos-live'), 'demo VMs Ready', 60_000, 500);
    const okd = record('VirtualMachine', 'okd-master-0')!.status!;
    expect(okd.devices).toContainEqual({ slot: 'ide2', kind: 'cdrom', volume: 'local:iso/fedora-coreos-live.iso' });
    expect(okd.cloudInitSlot).not.toBe('ide2');
    expect(okd.devices?.find((d) => d.kind === 'disk' && d.slot === 'ide0')).toBeDefined(); // the disk stayed put
    expect(okd.bootOrder).toEqual(['scsi0', 'ide0', 'ide2']); // hd_cdrom
    const debian = record('VirtualMachine', 'debian-web')!.status!;
    expect(debian.cloudInitSlot).toMatch(/^scsi/); // Debian's preferred bus
    expect(record('IsoAttachment', 'fcos-live')!.status!.slot).toBe('ide2');
  });

  it('serves the iPXE script for the demo MAC and prints a summary with the URLs to try', async () => {
    const script = await (await fetch(`http://127.0.0.1:${port}/ipxe?mac=52:54:00:be:ef:01`)).text();
    expect(script).toContain('#!ipxe');
    expect(script).toContain('hostname=demo-node');
    await eventually(async () => stderr.includes('━━ bootplane embedded default ━━') && stderr.includes('Try:'), 'summary printed', 60_000);
    expect(stderr).toContain('Proxmox VE SIMULATOR');
    expect(stderr).toContain(`/ipxe?mac=52:54:00:be:ef:01`);
    expect(stderr).toMatch(/VM demo\/okd-master-0: Ready=True/);
  });
});
