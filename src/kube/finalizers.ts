// Finalizers are metadata, written with a JSON patch guarded by the resourceVersion the
// decision was made on, so a concurrent change makes the write fail instead of clobbering it.
import type { KubeClient } from './client.js';
import type { KubeObject } from './object.js';
import { objectPath, type ResourceType } from './resources.js';

export const FINALIZER = 'bootplane.io/finalizer';

export function hasFinalizer(obj: KubeObject, finalizer = FINALIZER): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

export async function setFinalizers(client: KubeClient, type: ResourceType, obj: KubeObject, finalizers: string[]): Promise<void> {
  await client.request(objectPath(type, obj.metadata.namespace, obj.metadata.name), {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: { metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion } },
  });
}

export async function addFinalizer(client: KubeClient, type: ResourceType, obj: KubeObject, finalizer = FINALIZER): Promise<void> {
  if (hasFinalizer(obj, finalizer)) return;
  await setFinalizers(client, type, obj, [...(obj.metadata.finalizers ?? []), finalizer]);
}

export async function removeFinalizer(client: KubeClient, type: ResourceType, obj: KubeObject, finalizer = FINALIZER): Promise<void> {
  if (!hasFinalizer(obj, finalizer)) return;
  await setFinalizers(client, type, obj, (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer));
}
