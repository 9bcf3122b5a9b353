// Standalone mode end to end: `bootplane standalone --dir` as a process over a copy of the
// examples, with no API server — reconciles, serves iPXE, follows edits and deletions, reports
// bad files without stopping, and survives kill -9 with its state intact.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ControllerProcess } from './support/controller-process.js';
import { eventually, kubectl, kubectlOk } from './support/kube.js';
import { ROOT } from './support/paths.js';

let site: string;
let port: number;
const processes: ControllerProcess[] = [];

function record(kind: string, namespace: string | undefined, name: string): { metadata: { finalizers?: string[]; generation: number; uid: string }; status?: { conditions?: { type: string; status: string; reason: string }[] } & Record<string, unknown> } | undefined {
  try {
    return parse(readFileSync(join(site, '.status', kind, namespace ?? '_cluster', `${name}.status`), 'utf8'));
  } catch {
    return undefined;
  }
}
const ready = (kind: string, ns: string | undefined, name: string) => record(kind, ns, name)?.status?.conditions?.find((c) => c.type === 'Ready');

function start(): ControllerProcess {
  const p = new ControllerProcess(`standalone-${processes.length}`, { dir: site, 'boot-addr': `127.0.0.1:${port}`, 'boot-status-flush-ms': '100' }, undefined, 'standalone');
  processes.push(p);
  return p;
}

beforeAll(() => {
  site = mkdtempSync(join(tmpdir(), 'bp-standalone-'));
  cpSync(join(ROOT, 'examples'), site, { recursive: true, filter: (src) => !src.includes(`${join('examples', 'site')}`) });
  writeFileSync(join(site, 'broken.yaml'), `apiVersion: bootplane.io/v1alpha1\nkind: NodeBootAssignment\nmetadata: {name: bad, namespace: lab}\nspec: {mac: "not-a-mac", profileRef: {name: rescue}}\n`);
  port = 20000 + Math.floor(Math.random() * 20000);
});

beforeAll(async () => {
  await kubectlOk(['apply', '-f', join(ROOT, 'examples', '00-namespaces.yaml')]); // for the server-side dry run
  await kubectlOk(['apply', '-f', join(ROOT, 'examples', 'okd', '00-namespace.yaml')]); // the OKD example's own namespace, for the same reason
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  rmSync(site, { recursive: true, force: true });
});

describe('bootplane standalone', () => {
  it('reconciles the site, reports the invalid file with file, document and field, and serves iPXE by MAC', async () => {
    const p = start();
    await eventually(async () => ready('BootProfile', 'lab', 'rescue')?.status === 'True', 'BootProfile rescue Ready', 60_000);
    await eventually(async () => ready('NodeBootAssignment', 'lab', 'cp-1')?.status === 'True', 'assignment cp-1 Ready', 30_000);
    expect(p.has((l) => l.file === 'broken.yaml' && l.document === 1 && l.field === 'spec.mac')).toBe(true);
    expect(record('NodeBootAssignment', 'lab', 'bad')).toBeUndefined();

    const script = await (await fetch(`http://127.0.0.1:${port}/ipxe?mac=52:54:00:12:34:56`)).text();
    expect(script).toContain('#!ipxe');
    expect(script).toContain('talos.config=http://192.0.2.1:8082/configs/cp-1.yaml');
    await eventually(async () => (record('NodeBootAssignment', 'lab', 'cp-1')?.status?.bootCount as number | undefined) === 1, 'boot recorded in the status file');
  });

  it('follows edits: a disabled assignment gets the fallback, not its profile', async () => {
    const file = join(site, 'node-boot-assignments.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('  bootMode: Once\n', '  bootMode: Once\n  state: Disabled\n'));
    await eventually(async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/ipxe?mac=52:54:00:12:34:56`)).text();
      return text.includes('menu') && text.includes('rescue') && text;
    }, 'fallback menu served after the edit', 15_000);
    expect(record('NodeBootAssignment', 'lab', 'cp-1')?.metadata.generation).toBe(2);
  });

  it('runs finalizers when a manifest is deleted', async () => {
    await eventually(async () => (record('Hypervisor', undefined, 'local-libvirt')?.metadata.finalizers ?? []).includes('bootplane.io/finalizer'), 'finalizer on the Hypervisor');
    // The VM that references it goes first, then the Hypervisor: its finalizer lets go.
    const vms = join(site, 'virtual-machines.yaml');
    writeFileSync(vms, readFileSync(vms, 'utf8').split('---\n').filter((d) => !d.includes('name: fedora-install')).join('---\n'));
    const hvs = join(site, 'hypervisors.yaml');
    writeFileSync(hvs, readFileSync(hvs, 'utf8').split('---\n').filter((d) => !d.includes('name: local-libvirt')).join('---\n'));
    await eventually(async () => record('Hypervisor', undefined, 'local-libvirt') === undefined, 'Hypervisor finalized and gone', 15_000);
  });

  it('survives kill -9 while writing status: state intact, no change repeated, work continues', async () => {
    const before = processes.at(-1)!;
    const uid = record('Hypervisor', undefined, 'pve-lab')!.metadata.uid;
    // Boot requests make status writes happen continuously while the process is killed.
    const hammer = (async () => {
      for (let i = 0; i < 200; i++) await fetch(`http://127.0.0.1:${port}/ipxe?mac=52:54:00:12:34:56`).catch(() => undefined);
    })();
    await new Promise((r) => setTimeout(r, 300));
    await before.kill('SIGKILL');
    await hammer;
    for (const kind of readdirSync(join(site, '.status')).filter((k) => k !== 'events')) {
      for (const ns of readdirSync(join(site, '.status', kind))) {
        for (const file of readdirSync(join(site, '.status', kind, ns)).filter((f) => f.endsWith('.status'))) {
          expect(() => parse(readFileSync(join(site, '.status', kind, ns, file), 'utf8')), `${kind}/${ns}/${file}`).not.toThrow();
        }
      }
    }
    const after = start();
    await eventually(async () => after.has((l) => l.msg === 'standalone site loaded'), 'restarted', 60_000);
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/boot/lab/shell.ipxe`)).ok, 'boot server back', 30_000);
    // The new process reconciles an edit on top of what the old one wrote.
    const profiles = join(site, 'boot-profiles.yaml');
    writeFileSync(profiles, readFileSync(profiles, 'utf8').replace('greeting: operator', 'greeting: again'));
    await eventually(async () => {
      const r = record('BootProfile', 'lab', 'shell');
      return r?.metadata.generation === 2 && r.status?.observedGeneration === 2;
    }, 'edit after restart reconciled', 15_000);
    expect(record('Hypervisor', undefined, 'pve-lab')!.metadata.uid).toBe(uid);
    expect(record('NodeBootAssignment', 'lab', 'cp-1')!.metadata.generation).toBe(2);
  });

  it('is a directory kubectl applies to a cluster as it is, state folder and all', async () => {
    rmSync(join(site, 'broken.yaml')); // invalid for the API server too, by design of the first test
    const applied = await kubectl(['apply', '--dry-run=server', '-R', '-f', site]);
    expect(applied.stderr).not.toMatch(/error/i); // warnings about objects other tests applied server-side are fine
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('virtualmachine.bootplane.io/debian-web');
  });
});
