// The Kube client against the real kube-apiserver: writes whose answer bootplane does not read
// ask for the object's metadata only, and the write itself lands whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../src/kube/client.js';
import { uniqueName } from './support/kube.js';
import { KUBECONFIG } from './support/paths.js';

let client: KubeClient;
const name = uniqueName('kc');
const path = `/api/v1/namespaces/default/configmaps`;

beforeAll(async () => {
  client = await KubeClient.create({ kubeconfigPath: KUBECONFIG, connections: 2 });
});

afterAll(async () => {
  await client.request(`${path}/${name}`, { method: 'DELETE' }).catch(() => undefined);
  await client.close();
});

describe('Kube client writes with metadataOnly', () => {
  it('get PartialObjectMetadata back from a create and a merge patch, and the data is written', async () => {
    const created = await client.request<{ kind: string; metadata: { name: string }; data?: unknown }>(path, {
      method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } }, metadataOnly: true,
    });
    expect(created.kind).toBe('PartialObjectMetadata');
    expect(created.metadata.name).toBe(name);
    expect(created.data).toBeUndefined();
    const patched = await client.request<{ kind: string }>(`${path}/${name}`, {
      method: 'PATCH', contentType: 'application/merge-patch+json', body: { data: { a: '2' } }, metadataOnly: true,
    });
    expect(patched.kind).toBe('PartialObjectMetadata');
    const full = await client.request<{ kind: string; data: Record<string, string>; metadata: { managedFields: { manager: string }[] } }>(`${path}/${name}`);
    expect(full.kind).toBe('ConfigMap');
    expect(full.data).toEqual({ a: '2' });
    expect(full.metadata.managedFields.map((m) => m.manager)).toContain('bootplane');
  });
});
