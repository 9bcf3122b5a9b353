// Writes an object's status once per reconcile pass, as a merge patch on /status, and only when
// it differs from what the cache holds. The controller never writes spec.
import type { KubeClient } from './client.js';
import { mergePatch } from './merge-patch.js';
import type { KubeObject } from './object.js';
import { objectPath, type ResourceType } from './resources.js';
import { statusMetrics } from '../observability/metrics.js';

export class StatusWriter {
  constructor(private readonly client: KubeClient) {}

  /**
   * Returns true when a patch was sent. With requireCurrent the patch carries current's
   * resourceVersion, so the API server refuses it (409) if the cache was behind.
   */
  async write(type: ResourceType, current: KubeObject, desiredStatus: Record<string, unknown>, options: { requireCurrent?: boolean } = {}): Promise<boolean> {
    const patch = mergePatch(current.status ?? {}, desiredStatus);
    if (patch === undefined) {
      statusMetrics.skipped.inc({ kind: type.kind });
      return false;
    }
    await this.client.request(objectPath(type, current.metadata.namespace, current.metadata.name, 'status'), {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: options.requireCurrent ? { metadata: { resourceVersion: current.metadata.resourceVersion }, status: patch } : { status: patch },
    });
    statusMetrics.writes.inc({ kind: type.kind });
    return true;
  }
}
