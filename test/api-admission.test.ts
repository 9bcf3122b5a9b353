// The API as the real kube-apiserver enforces it: CRDs install and explain themselves, every
// example is accepted, and bad input is rejected with a message that names the field.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../src/api/v1alpha1/kinds.js';
import { createNamespace, kubectl, kubectlOk, uniqueName } from './support/kube.js';
import { ROOT } from './support/paths.js';

const INVALID = join(ROOT, 'test', 'testdata', 'invalid');

describe('CRDs on a real API server', () => {
  it('are established with short names and the bootplane category', async () => {
    const out = await kubectlOk(['api-resources', '--api-group=bootplane.io', '-o', 'wide']);
    for (const kind of KINDS) {
      const row = out.split('\n').find((l) => l.startsWith(`${kind.plural} `));
      expect(row, kind.plural).toBeDefined();
      for (const short of kind.shortNames) expect(row).toContain(short);
      expect(row).toContain('bootplane');
    }
  });

  it('teach the API through kubectl explain', async () => {
    const spec = await kubectlOk(['explain', 'virtualmachine.spec']);
    expect(spec).toContain('Desired state of a virtual machine.');
    expect(spec).toMatch(/disruptiveChanges\s+<string>/);
    expect(spec).toContain('The default never restarts a VM.');
    const preset = await kubectlOk(['explain', 'virtualmachine.spec.bootOrder.preset']);
    expect(preset).toContain('cdrom_hd');
    const mac = await kubectlOk(['explain', 'nodebootassignment.spec.mac']);
    expect(mac).toContain('Immutable: it identifies the machine.');
  });

  it('accept every example and list them under `kubectl get bootplane`', async () => {
    await kubectlOk(['apply', '--server-side', '-f', join(ROOT, 'examples')]);
    const out = await kubectlOk(['get', 'bootplane', '-A', '-o', 'name']);
    for (const file of readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml'))) {
      const text = readFileSync(join(ROOT, 'examples', file), 'utf8');
      for (const m of text.matchAll(/^kind: (\w+)\nmetadata:\n {2}name: ([\w.-]+)/gm)) {
        if (!KINDS.some((k) => k.kind === m[1])) continue;
        expect(out, `${m[1]} ${m[2]} from ${file}`).toContain(`${m[1]!.toLowerCase()}.bootplane.io/${m[2]}`);
      }
    }
  });

  it('show the printer columns', async () => {
    const header = (await kubectlOk(['get', 'vm', '-n', 'lab'])).split('\n')[0]!;
    expect(header.split(/\s+/)).toEqual(['NAME', 'HYPERVISOR', 'POWER', 'INSTALL', 'READY', 'AGE']);
    const wide = (await kubectlOk(['get', 'nba', '-n', 'lab', '-o', 'wide'])).split('\n')[0]!;
    expect(wide).toContain('PROFILE');
    expect(wide).toContain('LAST BOOT');
  });

  const invalid = readdirSync(INVALID).filter((f) => f.endsWith('.yaml')).sort();
  it.each(invalid)('reject %s with a message naming the field', async (file) => {
    const text = readFileSync(join(INVALID, file), 'utf8');
    const expected = /^# expect: (.*)$/m.exec(text)?.[1];
    expect(expected, `${file} needs an "# expect:" line`).toBeTruthy();
    const result = await kubectl(['create', '--dry-run=server', '-f', '-'], text);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(expected);
  });
});

describe('identity fields are immutable', () => {
  it('refuses to change a Proxmox VM\'s vmid, an assignment\'s MAC and a Hypervisor\'s type', async () => {
    const ns = await createNamespace('immutable');
    const vm = uniqueName('vm');
    await kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${vm}}\nspec: {hypervisorRef: {name: pve}, proxmox: {node: pve1, vmid: 101}}\n`);
    let r = await kubectl(['patch', '-n', ns, 'vm', vm, '--type=merge', '-p', '{"spec":{"proxmox":{"vmid":102}}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.proxmox.node and spec.proxmox.vmid are immutable');
    r = await kubectl(['patch', '-n', ns, 'vm', vm, '--type=merge', '-p', '{"spec":{"hypervisorRef":{"name":"other"}}}']);
    expect(r.stderr).toContain('spec.hypervisorRef is immutable');

    const nba = uniqueName('nba');
    await kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: NodeBootAssignment\nmetadata: {name: ${nba}}\nspec: {mac: "52:54:00:00:00:01", profileRef: {name: p}}\n`);
    r = await kubectl(['patch', '-n', ns, 'nba', nba, '--type=merge', '-p', '{"spec":{"mac":"52:54:00:00:00:02"}}']);
    expect(r.stderr).toContain('spec.mac is immutable');
    r = await kubectl(['patch', '-n', ns, 'nba', nba, '--type=json', '-p', '[{"op":"remove","path":"/spec/mac"},{"op":"add","path":"/spec/uuid","value":"4c4c4544-0000-1000-8000-000000000001"}]']);
    expect(r.stderr).toContain('spec.mac is immutable');

    const hv = uniqueName('hv');
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system"}}\n`);
    r = await kubectl(['patch', 'hv', hv, '--type=merge', '-p', '{"spec":{"type":"proxmox","libvirt":null,"proxmox":{"endpoint":"https://x:8006"},"credentialsSecretRef":{"name":"a","namespace":"b"}}}']);
    expect(r.stderr).toContain('spec.type is immutable');
    await kubectlOk(['delete', 'hv', hv, '--wait=false']);
    await kubectlOk(['delete', 'namespace', ns, '--wait=false']);
  });
});
