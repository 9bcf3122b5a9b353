import { describe, expect, it } from 'vitest';
import { slim, type KubeObject } from './object.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function parsed(metadata: Record<string, unknown>): KubeObject {
  return JSON.parse(JSON.stringify({ metadata: { name: 'vm-1', namespace: 'lab', ...metadata }, spec: { a: 1 } })) as KubeObject;
}

describe('slim', () => {
  it('drops managedFields and the last-applied annotation, keeping everything else', () => {
    const obj = slim(parsed({ uid: 'u1', resourceVersion: '7', labels: { team: 'a' }, finalizers: ['f'], annotations: { [LAST_APPLIED]: '{"big":1}', note: 'kept' }, managedFields: [{ manager: 'kubectl' }] }));
    expect(obj.metadata).toEqual({ name: 'vm-1', namespace: 'lab', uid: 'u1', resourceVersion: '7', labels: { team: 'a' }, finalizers: ['f'], annotations: { note: 'kept' } });
    expect(obj.spec).toEqual({ a: 1 });
  });

  it('removes annotations left empty', () => {
    const obj = slim(parsed({ annotations: { [LAST_APPLIED]: '{}' } }));
    expect('annotations' in obj.metadata).toBe(false);
  });

  it('returns an object with nothing to drop unchanged', () => {
    const obj = parsed({ annotations: { note: 'kept' } });
    const metadata = obj.metadata;
    expect(slim(obj).metadata).toBe(metadata);
  });
});
