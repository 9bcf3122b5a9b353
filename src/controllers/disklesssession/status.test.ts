import { describe, expect, it } from 'vitest';
import type { DisklessSession } from '../../api/v1alpha1/diskless-session.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import { copyPath, identifyMachine, initiatorIqn, machineHolder, readyCondition, targetIqn } from './status.js';

type Phase = NonNullable<DisklessSession['status']>['phase'];
function session(name: string, created: string, phase?: Phase, extra: Partial<DisklessSession['spec']> = {}): DisklessSession {
  return {
    apiVersion: 'bootplane.io/v1alpha1', kind: 'DisklessSession',
    metadata: { name, namespace: 'lab', creationTimestamp: created, uid: '0123456789abcdef' },
    spec: { machine: { mac: '52:54:00:12:34:56' }, image: { path: '/srv/golden.img' }, mode: 'ephemeral', deletePersistentCopy: false, target: { driver: 'tgt', portal: '192.0.2.1:3260' }, chap: false, state: 'Active', ...extra },
    status: phase ? { phase } : undefined,
  };
}

describe('DisklessSession decisions', () => {
  it('names targets, initiators and copies', () => {
    const s = session('lab-1', '2026-01-01T00:00:00Z');
    expect(targetIqn(s)).toBe('iqn.2024-01.io.bootplane:lab.lab-1');
    expect(targetIqn(session('x'.repeat(250), '2026-01-01T00:00:00Z')).length).toBeLessThanOrEqual(223);
    expect(initiatorIqn('52:54:00:12:34:56')).toBe('iqn.2024-01.io.bootplane:525400123456');
    expect(copyPath(s, '52:54:00:12:34:56', '/data')).toBe('/data/lab_lab-1_01234567.img');
    expect(copyPath(session('lab-1', '', undefined, { mode: 'persistent', target: { driver: 'tgt', portal: 'h:1', copyDirectory: '/fast' } }), '52:54:00:12:34:56', '/data')).toBe('/fast/persistent/lab_525400123456.img');
  });

  it('lets one session hold a machine: the one already provisioning or active, else the oldest', () => {
    const older = session('older', '2026-01-01T00:00:00Z');
    const newer = session('newer', '2026-01-01T00:01:00Z');
    expect(machineHolder(newer, [older, newer])?.metadata.name).toBe('older');
    expect(machineHolder(older, [older, newer])).toBeUndefined();
    // A younger session that is already Active keeps the machine.
    const activeNewer = session('newer', '2026-01-01T00:01:00Z', 'Active');
    expect(machineHolder(older, [older, activeNewer])?.metadata.name).toBe('newer');
    // Stopped, failed or stopping-by-spec sessions hold nothing.
    expect(machineHolder(newer, [session('older', '2026-01-01T00:00:00Z', 'Stopped'), newer])).toBeUndefined();
    expect(machineHolder(newer, [session('older', '2026-01-01T00:00:00Z', 'Failed'), newer])).toBeUndefined();
    expect(machineHolder(newer, [session('older', '2026-01-01T00:00:00Z', 'Pending', { state: 'Stopped' }), newer])).toBeUndefined();
  });

  it('identifies the machine through an assignment, or says why not', () => {
    const s = session('lab-1', '', undefined, { machine: { assignmentRef: { name: 'pc-7' } } });
    expect(identifyMachine(s, undefined).condition.reason).toBe('AssignmentNotFound');
    const byUuid = { metadata: { name: 'pc-7' }, spec: { uuid: '4c4c4544-0000-0000-0000-000000000000', profileRef: { name: 'p' } } } as NodeBootAssignment;
    expect(identifyMachine(s, byUuid).condition.reason).toBe('MacAddressesUnknown');
    const byMac = { metadata: { name: 'pc-7' }, spec: { mac: '52-54-00-AA-BB-CC', ipAddress: '192.0.2.7', profileRef: { name: 'p' } } } as NodeBootAssignment;
    expect(identifyMachine(s, byMac)).toMatchObject({ mac: '52:54:00:aa:bb:cc', address: '192.0.2.7', condition: { reason: 'Assignment' } });
  });

  it('summarises Ready from the first step that is not True', () => {
    expect(readyCondition('Active', [])).toMatchObject({ status: 'True', reason: 'Active' });
    expect(readyCondition('Provisioning', [
      { type: 'MachineIdentified', status: 'True', reason: 'MacAddress', message: '' },
      { type: 'DiskReady', status: 'Unknown', reason: 'Copying', message: 'copying' },
    ])).toMatchObject({ status: 'False', reason: 'Copying', message: 'copying' });
  });
});
