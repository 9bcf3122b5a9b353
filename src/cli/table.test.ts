import { describe, expect, it } from 'vitest';
import { kindInfo } from '../api/v1alpha1/kinds.js';
import { age, findKind, jsonPath, renderTable } from './table.js';

describe('printer columns', () => {
  it('evaluate the JSONPath forms the CRDs use', () => {
    const obj = { spec: { hypervisorRef: { name: 'pve' } }, status: { conditions: [{ type: 'Connected', status: 'False' }, { type: 'Ready', status: 'True', reason: 'Converged' }] } };
    expect(jsonPath(obj, '.spec.hypervisorRef.name')).toBe('pve');
    expect(jsonPath(obj, '.status.conditions[?(@.type=="Ready")].status')).toBe('True');
    expect(jsonPath(obj, '.status.conditions[?(@.type=="Missing")].status')).toBeUndefined();
  });

  it('find kinds by kind, plural, singular and short name', () => {
    expect(findKind('vm')?.kind).toBe('VirtualMachine');
    expect(findKind('nodebootassignments')?.kind).toBe('NodeBootAssignment');
    expect(findKind('Hypervisor')?.kind).toBe('Hypervisor');
    expect(findKind('pods')).toBeUndefined();
  });

  it('render like kubectl get', () => {
    const now = Date.parse('2026-01-01T01:00:00Z');
    const text = renderTable(kindInfo('VirtualMachine'), [{
      metadata: { name: 'web', namespace: 'lab', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { hypervisorRef: { name: 'pve' } },
      status: { power: 'Running', install: { state: 'Installed' }, conditions: [{ type: 'Ready', status: 'True' }] },
    }], { now });
    expect(text.split('\n')).toEqual([
      'NAMESPACE   NAME   HYPERVISOR   POWER     INSTALL     READY   AGE',
      'lab         web    pve          Running   Installed   True    60m',
    ]);
    expect(age('2026-01-01T00:00:30Z', now)).toBe('59m');
  });

  it('list diskless sessions with phase, machine, image, connections and age', () => {
    const now = Date.parse('2026-01-01T01:00:00Z');
    const text = renderTable(kindInfo('DisklessSession'), [{
      metadata: { name: 'lab-1', namespace: 'lab', creationTimestamp: '2026-01-01T00:50:00Z' },
      spec: { mode: 'ephemeral' },
      status: { phase: 'Active', mac: '52:54:00:12:34:56', image: '/srv/golden.img', connectionCount: 1, conditions: [{ type: 'Ready', status: 'True' }] },
    }], { now });
    expect(text.split('\n')).toEqual([
      'NAMESPACE   NAME    MAC                 MODE        PHASE    IMAGE             CONNS   READY   AGE',
      'lab         lab-1   52:54:00:12:34:56   ephemeral   Active   /srv/golden.img   1       True    10m',
    ]);
  });
});
