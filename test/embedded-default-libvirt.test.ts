// The embedded default against the real local libvirt daemon (hack/libvirt.sh): standalone mode
// defines its two demo domains, attaches the installer ISO where the planner puts it and sets
// the boot order — checked against `virsh dumpxml` as an independent oracle.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ControllerProcess } from './support/controller-process.js';
import { eventually } from './support/kube.js';
import { ROOT } from './support/paths.js';

const DOMAINS = ['bootplane-demo-installer', 'bootplane-demo-debian'];
const virsh = (...args: string[]) => execFileSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8' });
let site: string;
let port: number;
let bootplane: ControllerProcess;
let stderr = '';

function ready(kind: string, name: string): boolean {
  try {
    const r = parse(readFileSync(join(site, '.status', kind, 'demo', `${name}.status`), 'utf8')) as { status?: { conditions?: { type: string; status: string }[] } };
    return r.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  } catch {
    return false;
  }
}

beforeAll(() => {
  for (const d of DOMAINS) {
    try { virsh('undefine', d); } catch { /* not defined yet */ }
  }
  try { virsh('vol-delete', '--pool', 'default', 'bootplane-demo-debian-cidata.iso'); } catch { /* no seed yet */ }
  site = mkdtempSync(join(tmpdir(), 'bp-embedded-libvirt-'));
  cpSync(join(ROOT, 'examples', 'site'), site, { recursive: true, filter: (src) => !src.includes('.status') && !src.endsWith('local-hypervisor.yaml') });
  port = 20000 + Math.floor(Math.random() * 20000);
  bootplane = new ControllerProcess('embedded-libvirt', { dir: site, 'local-hypervisor': 'libvirt', 'boot-addr': `127.0.0.1:${port}` }, undefined, 'standalone');
  bootplane.onStderr = (text) => { stderr += text; };
});

afterAll(async () => {
  await bootplane?.kill('SIGTERM');
  for (const d of DOMAINS) {
    try { virsh('undefine', d); } catch { /* already gone */ }
  }
  rmSync(site, { recursive: true, force: true });
});

describe('the embedded default on real libvirt', () => {
  it('attaches the installer ISO first in the boot order, as virsh sees it', async () => {
    await eventually(async () => ready('VirtualMachine', 'installer-demo') && ready('IsoAttachment', 'installer') && ready('VirtualMachine', 'debian-web'), 'demo domains Ready', 90_000, 500);
    const xml = virsh('dumpxml', '--inactive', 'bootplane-demo-installer');
    const cdrom = /<disk type='file' device='cdrom'>[\s\S]*?<\/disk>/.exec(xml)?.[0] ?? '';
    expect(cdrom).toContain("/usr/lib/ipxe/ipxe.iso");
    expect(cdrom).toContain("<boot order='1'/>"); // primaryBoot: the installer first
    expect(xml).not.toMatch(/<os>[\s\S]*<boot dev=/); // per-device boot order, never mixed with <os><boot>
    // debian-web: its seed CD-ROM moved from ide2 to SCSI (placement auto), pointing at the seed bootplane wrote.
    const debian = virsh('dumpxml', '--inactive', 'bootplane-demo-debian');
    const seeds = [...debian.matchAll(/<disk [^>]*device='cdrom'[\s\S]*?<\/disk>/g)].map((m) => m[0]);
    expect(seeds).toHaveLength(1);
    expect(seeds[0]).toContain("volume='bootplane-demo-debian-cidata.iso'");
    expect(seeds[0]).toContain("bus='scsi'");
    expect(virsh('vol-info', '--pool', 'default', 'bootplane-demo-debian-cidata.iso')).toMatch(/Capacity:/);
    await eventually(async () => stderr.includes('local libvirt'), 'summary names the local libvirt', 60_000);
    const script = await (await fetch(`http://127.0.0.1:${port}/ipxe?mac=52:54:00:be:ef:01`)).text();
    expect(script).toContain('hostname=demo-node');
  });
});
