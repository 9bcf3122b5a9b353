import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { silentLogger } from '../observability/logger.js';
import { DirStore, recordPath } from './dir-store.js';

const hv = (name: string, uri = 'qemu:///system') => `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${name}}\nspec: {type: libvirt, libvirt: {uri: "${uri}"}}\n`;
const vm = (name: string, vmid = 101) => `apiVersion: bootplane.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}, namespace: lab}\nspec: {hypervisorRef: {name: pve}, proxmox: {node: pve1, vmid: ${vmid}}}\n`;

let dirs: string[] = [];
let stores: DirStore[] = [];
afterEach(() => {
  for (const s of stores) s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
  stores = [];
});

function site(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bp-site-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function open(dir: string): DirStore {
  const store = new DirStore(dir, silentLogger(), 0);
  stores.push(store);
  store.rescan();
  return store;
}

describe('DirStore', () => {
  it('reads multi-document files in nested folders and reports a bad document by file, document and field', () => {
    const dir = site({
      'hypervisors.yaml': hv('a') + '---\n' + hv('b'),
      'nested/deeper/vms.yaml': vm('web') + '---\n' + vm('bad', 42),
      'secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: {name: tok, namespace: lab}\nstringData: {tokenId: x}\n',
    });
    const store = open(dir);
    expect([...store.source('Hypervisor').cache.keys()].sort()).toEqual(['a', 'b']);
    expect([...store.source('VirtualMachine').cache.keys()]).toEqual(['lab/web']);
    expect(store.problems).toEqual([
      expect.objectContaining({ file: 'nested/deeper/vms.yaml', document: 2, field: 'spec.proxmox.vmid' }),
    ]);
    expect(store.get('Hypervisor', 'a')?.metadata.generation).toBe(1);
  });

  it('keeps status, uid and generation across a restart, in files written atomically', async () => {
    const dir = site({ 'hv.yaml': hv('a') });
    const first = open(dir);
    const obj = first.get('Hypervisor', 'a')!;
    expect(await first.writeStatus('Hypervisor', obj, { observedGeneration: 1, version: '9.0' })).toBe(true);
    expect(await first.writeStatus('Hypervisor', first.get('Hypervisor', 'a')!, { observedGeneration: 1, version: '9.0' })).toBe(false);
    const record = parse(readFileSync(recordPath(dir, 'Hypervisor', obj), 'utf8')) as { status: unknown };
    expect(record.status).toEqual({ observedGeneration: 1, version: '9.0' });
    first.stop();

    const second = open(dir);
    const again = second.get('Hypervisor', 'a')!;
    expect(again.status).toEqual({ observedGeneration: 1, version: '9.0' });
    expect(again.metadata.uid).toBe(obj.metadata.uid);
    expect(again.metadata.generation).toBe(1);
  });

  it('bumps generation on a spec edit, and keeps the last valid version when an edit is invalid', () => {
    const dir = site({ 'hv.yaml': hv('a'), 'vm.yaml': vm('web') });
    const store = open(dir);
    const events: string[] = [];
    store.source('VirtualMachine').on((e, o) => events.push(`${e}:${o.metadata.name}`));
    store.source('Hypervisor').on((e, o) => events.push(`${e}:${o.metadata.name}`));

    writeFileSync(join(dir, 'hv.yaml'), hv('a', 'qemu+tcp://host/system'));
    store.rescan();
    expect(store.get('Hypervisor', 'a')?.metadata.generation).toBe(2);

    writeFileSync(join(dir, 'vm.yaml'), vm('web', 102)); // vmid is immutable, as in a cluster
    store.rescan();
    expect((store.get('VirtualMachine', 'lab/web')?.spec as { proxmox: { vmid: number } }).proxmox.vmid).toBe(101);
    expect(store.problems[0]).toMatchObject({ file: 'vm.yaml', document: 1, message: expect.stringContaining('immutable') });

    writeFileSync(join(dir, 'vm.yaml'), 'this: is: not: yaml');
    store.rescan();
    expect(store.get('VirtualMachine', 'lab/web')).toBeDefined();
    expect(events).toEqual(['update:a']);
  });

  it('runs deletion through finalizers: deletionTimestamp first, gone once the finalizer is removed, also across a restart', async () => {
    const dir = site({ 'hv.yaml': hv('a') });
    const store = open(dir);
    await store.addFinalizer('Hypervisor', store.get('Hypervisor', 'a')!);
    rmSync(join(dir, 'hv.yaml'));
    store.rescan();
    const deleting = store.get('Hypervisor', 'a')!;
    expect(deleting.metadata.deletionTimestamp).toBeDefined();
    expect(deleting.metadata.finalizers).toEqual(['bootplane.io/finalizer']);
    store.stop();

    const restarted = open(dir);
    const still = restarted.get('Hypervisor', 'a')!;
    expect(still.metadata.deletionTimestamp).toBe(deleting.metadata.deletionTimestamp);
    const events: string[] = [];
    restarted.source('Hypervisor').on((e) => events.push(e));
    await restarted.removeFinalizer('Hypervisor', still);
    expect(restarted.get('Hypervisor', 'a')).toBeUndefined();
    expect(events).toEqual(['delete']);
    expect(existsSync(recordPath(dir, 'Hypervisor', still))).toBe(false);
  });

  it('tells Secret readers when the Secret changes', async () => {
    const secret = (v: string) => `apiVersion: v1\nkind: Secret\nmetadata: {name: tok, namespace: lab}\nstringData: {tokenSecret: ${v}}\n`;
    const dir = site({ 's.yaml': secret('one') });
    const store = open(dir);
    let changes = 0;
    expect((await store.getSecret('lab', 'tok', () => changes++))?.data).toEqual({ tokenSecret: 'one' });
    writeFileSync(join(dir, 's.yaml'), secret('two'));
    store.rescan();
    expect(changes).toBe(1);
    expect((await store.getSecret('lab', 'tok', () => changes++))?.data).toEqual({ tokenSecret: 'two' });
  });

  it('tells ConfigMap readers when the ConfigMap changes', async () => {
    const configMap = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: motd, namespace: lab}\ndata: {motd: ${v}}\n`;
    const dir = site({ 'c.yaml': configMap('one') });
    const store = open(dir);
    let configMapChanges = 0;
    expect((await store.getConfigMap('lab', 'motd', () => configMapChanges++))?.data).toEqual({ motd: 'one' });
    writeFileSync(join(dir, 'c.yaml'), configMap('two'));
    store.rescan();
    expect(configMapChanges).toBe(1);
    expect((await store.getConfigMap('lab', 'motd'))?.data).toEqual({ motd: 'two' });
    expect(await store.getConfigMap('lab', 'absent')).toBeUndefined();
  });

  it('keeps recent Events per object, folding repeats', () => {
    const dir = site({ 'hv.yaml': hv('a') });
    const store = open(dir);
    const obj = store.get('Hypervisor', 'a')!;
    store.recordEvent(obj, 'Warning', 'SecretNotFound', 'CredentialsResolved', 'missing');
    store.recordEvent(obj, 'Warning', 'SecretNotFound', 'CredentialsResolved', 'missing');
    store.recordEvent(obj, 'Normal', 'Resolved', 'CredentialsResolved', 'ok');
    expect(store.events('Hypervisor', obj).map((e) => `${e.reason}x${e.count}`)).toEqual(['SecretNotFoundx2', 'Resolvedx1']);
  });
});
