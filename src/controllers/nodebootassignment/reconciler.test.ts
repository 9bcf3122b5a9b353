import { describe, expect, it } from 'vitest';
import type { BootProfile } from '../../api/v1alpha1/boot-profile.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import { addBootIndexes } from '../../boot/indexes.js';
import { MemoryStore } from '../../store/memory-store.js';
import { BootProfileReconciler } from '../bootprofile/reconciler.js';
import { NodeBootAssignmentReconciler } from './reconciler.js';

const URL = 'http://192.0.2.1:8082';

function setup() {
  const store = new MemoryStore();
  addBootIndexes(store.cache('NodeBootAssignment'), store.cache('BootProfile'));
  store.put<BootProfile>('BootProfile', {
    apiVersion: 'bootplane.io/v1alpha1', kind: 'BootProfile', metadata: { name: 'talos', namespace: 'lab', generation: 1 },
    spec: { type: 'kernel', kernel: { kernel: { path: 't/vmlinuz' }, cmdline: 'talos.config={{configUrl}} host={{hostname}}' }, parameters: { configUrl: 'http://192.0.2.1/c.yaml' }, firmware: ['bios', 'uefi'], public: false, unattended: false, localBoot: 'exit' },
  });
  const put = (name: string, spec: Partial<NodeBootAssignment['spec']>) => store.put<NodeBootAssignment>('NodeBootAssignment', {
    apiVersion: 'bootplane.io/v1alpha1', kind: 'NodeBootAssignment', metadata: { name, namespace: 'lab', generation: 2 },
    spec: { profileRef: { name: 'talos' }, bootMode: 'Always', bootOnceEpoch: 0, state: 'Enabled', hostname: name, ...spec },
  });
  return { store, put, assignments: new NodeBootAssignmentReconciler(store, URL), profiles: new BootProfileReconciler(store, URL) };
}

const cond = (obj: unknown, type: string) => (obj as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } } | undefined)?.status?.conditions?.find((c) => c.type === type);

describe('NodeBootAssignmentReconciler', () => {
  it('reports a ready assignment with its MAC and script hash', async () => {
    const s = setup();
    s.put('cp-1', { mac: '52:54:00:AA:BB:CC' });
    await s.assignments.reconcile({ namespace: 'lab', name: 'cp-1' });
    const a = s.store.get<NodeBootAssignment>('NodeBootAssignment', 'lab/cp-1');
    expect(cond(a, 'Ready')).toMatchObject({ status: 'True' });
    expect(a?.status).toMatchObject({ observedGeneration: 2, macAddresses: ['52:54:00:aa:bb:cc'] });
    expect(a?.status?.profileScriptHash).toMatch(/^[0-9a-f]{64}$/);
    const writes = s.store.statusWrites.length;
    await s.assignments.reconcile({ namespace: 'lab', name: 'cp-1' });
    expect(s.store.statusWrites.length).toBe(writes);
  });

  it('names a refused parameter and a missing profile in conditions', async () => {
    const s = setup();
    s.put('bad', { mac: '52:54:00:00:00:01', parameters: { configUrl: 'http://x/ || shell' } });
    s.put('orphan', { mac: '52:54:00:00:00:02', profileRef: { name: 'nope' } });
    await s.assignments.reconcile({ namespace: 'lab', name: 'bad' });
    await s.assignments.reconcile({ namespace: 'lab', name: 'orphan' });
    const bad = s.store.get<NodeBootAssignment>('NodeBootAssignment', 'lab/bad');
    expect(cond(bad, 'Rendered')).toMatchObject({ status: 'False', reason: 'ParameterRefused' });
    expect(cond(bad, 'Rendered')?.message).toContain('parameter configUrl');
    expect(cond(bad, 'Ready')).toMatchObject({ status: 'False', reason: 'ParameterRefused' });
    expect(s.store.events.some((e) => e.key === 'lab/bad' && e.type === 'Warning')).toBe(true);
    expect(cond(s.store.get('NodeBootAssignment', 'lab/orphan'), 'ProfileResolved')).toMatchObject({ status: 'False', reason: 'ProfileNotFound' });
  });

  it('reports a MAC claimed by another assignment, in any namespace', async () => {
    const s = setup();
    s.put('first', { mac: '52:54:00:00:00:0f' });
    s.store.put('NodeBootAssignment', { ...s.store.get<NodeBootAssignment>('NodeBootAssignment', 'lab/first')!, metadata: { name: 'copy', namespace: 'other' } });
    await s.assignments.reconcile({ namespace: 'lab', name: 'first' });
    const c = cond(s.store.get('NodeBootAssignment', 'lab/first'), 'MacAddressUnique');
    expect(c).toMatchObject({ status: 'False', reason: 'MacAddressConflict' });
    expect(c?.message).toContain('other/copy');
  });

  it('takes MACs from the referenced VirtualMachine, which the MAC index then finds', async () => {
    const s = setup();
    s.put('vm-boot', { vmRef: { name: 'web' } });
    await s.assignments.reconcile({ namespace: 'lab', name: 'vm-boot' });
    expect(cond(s.store.get('NodeBootAssignment', 'lab/vm-boot'), 'MachineIdentified')).toMatchObject({ status: 'False', reason: 'VirtualMachineNotFound' });
    s.store.put('VirtualMachine', { apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'web', namespace: 'lab' }, spec: {}, status: { macAddresses: ['BC:24:11:00:00:01'] } });
    await s.assignments.reconcile({ namespace: 'lab', name: 'vm-boot' });
    expect(s.store.get<NodeBootAssignment>('NodeBootAssignment', 'lab/vm-boot')?.status?.macAddresses).toEqual(['bc:24:11:00:00:01']);
    expect(s.store.byIndex('NodeBootAssignment', 'boot.mac', 'bc:24:11:00:00:01').map((a) => a.metadata.name)).toEqual(['vm-boot']);
  });
});

describe('BootProfileReconciler', () => {
  it('counts assignments, hashes the default script and names a refused default', async () => {
    const s = setup();
    s.put('a', { mac: '52:54:00:00:00:0a' });
    s.put('b', { mac: '52:54:00:00:00:0b' });
    await s.profiles.reconcile({ namespace: 'lab', name: 'talos' });
    const p = s.store.get<BootProfile>('BootProfile', 'lab/talos');
    expect(p?.status).toMatchObject({ assignments: 2, observedGeneration: 1 });
    expect(p?.status?.scriptHash).toMatch(/^[0-9a-f]{64}$/);
    expect(cond(p, 'Ready')).toMatchObject({ status: 'True' });
    s.store.put('BootProfile', { ...p!, spec: { ...p!.spec, parameters: { configUrl: '${net0/ip}' } } });
    await s.profiles.reconcile({ namespace: 'lab', name: 'talos' });
    const broken = s.store.get<BootProfile>('BootProfile', 'lab/talos');
    expect(cond(broken, 'Rendered')?.message).toContain('parameter configUrl');
    expect(broken?.status?.scriptHash).toBeUndefined();
  });
});
