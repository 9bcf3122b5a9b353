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
});
