// ResourceStore over the Kubernetes API: informer caches for reads, /status merge patches,
// finalizer patches, aggregated Events, and one single-object watch per referenced Secret (so
// RBAC can grant Secrets by resourceName instead of cluster-wide).
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.js';
import type { EventRecorder, EventType } from '../kube/events.js';
import { addFinalizer, removeFinalizer } from '../kube/finalizers.js';
import { Informer } from '../kube/informer.js';
import type { KubeObject } from '../kube/object.js';
import { KubeApiError } from '../kube/errors.js';
import { bootplaneResource, collectionPath, CONFIGMAPS, objectPath, SECRETS, type ResourceType } from '../kube/resources.js';
import type { StatusWriter } from '../kube/status-writer.js';
import type { ConfigMapData, ResourceStore, SecretData } from './store.js';

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

interface ConfigMapObject extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

const SECRET_READ_TIMEOUT_MS = 10_000;

export class KubeStore implements ResourceStore {
  private readonly singleObjectWatches = new Map<string, { informer: Informer<SecretObject>; listeners: Set<() => void> }>();

  constructor(
    private readonly client: KubeClient,
    private readonly informers: ReadonlyMap<string, Informer<KubeObject>>,
    private readonly statusWriter: StatusWriter,
    private readonly events: EventRecorder,
    private readonly log: Logger,
  ) {}

  private informer(kind: string): Informer<KubeObject> {
    const informer = this.informers.get(kind);
    if (!informer) throw new Error(`no informer for ${kind}`);
    return informer;
  }

  get<T extends KubeObject>(kind: string, key: string): T | undefined {
    return this.informer(kind).cache.get(key) as T | undefined;
  }

  list<T extends KubeObject>(kind: string): Iterable<T> {
    return this.informer(kind).cache.list() as Iterable<T>;
  }

  byIndex<T extends KubeObject>(kind: string, index: string, value: string): T[] {
    return this.informer(kind).cache.byIndex(index, value) as T[];
  }

  writeStatus(kind: string, obj: KubeObject, status: Record<string, unknown>, options?: { requireCurrent?: boolean }): Promise<boolean> {
    return this.statusWriter.write(bootplaneResource(kind), obj, status, options);
  }

  addFinalizer(kind: string, obj: KubeObject): Promise<void> {
    return addFinalizer(this.client, bootplaneResource(kind), obj);
  }

  removeFinalizer(kind: string, obj: KubeObject): Promise<void> {
    return removeFinalizer(this.client, bootplaneResource(kind), obj);
  }

  async getSecret(namespace: string, name: string, onChange?: () => void): Promise<SecretData | undefined> {
    const secret = await this.watchOne(SECRETS, namespace, name, onChange);
    if (!secret) return undefined;
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
    return { namespace, name, resourceVersion: secret.metadata.resourceVersion, data };
  }

  async getConfigMap(namespace: string, name: string, onChange?: () => void): Promise<ConfigMapData | undefined> {
    const configMap = await this.watchOne(CONFIGMAPS, namespace, name, onChange) as ConfigMapObject | undefined;
    if (!configMap) return undefined;
    const data: Record<string, string> = { ...(configMap.data ?? {}) };
    for (const [k, v] of Object.entries(configMap.binaryData ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
    return { namespace, name, resourceVersion: configMap.metadata.resourceVersion, data };
  }

  /** One single-object watch per referenced Secret or ConfigMap, shared by everyone who reads it. */
  private async watchOne(resource: ResourceType, namespace: string, name: string, onChange: (() => void) | undefined): Promise<SecretObject | undefined> {
    const key = `${namespace}/${name}`;
    const watchKey = `${resource.plural}/${key}`;
    let watch = this.singleObjectWatches.get(watchKey);
    if (!watch) {
      const informer = new Informer<SecretObject>(this.client, resource, {
        namespace,
        fieldSelector: `metadata.name=${name}`,
        resyncMs: 0,
        logger: this.log,
      });
      const listeners = new Set<() => void>();
      informer.on((event) => {
        // The first list is the read its readers are waiting for, not a change: telling them
        // would queue every reader again right after its pass, from a cache that may not hold
        // that pass's own status write yet.
        if (event === 'resync' || !informer.hasSynced) return;
        for (const listener of listeners) listener();
      });
      watch = { informer, listeners };
      this.singleObjectWatches.set(watchKey, watch);
      informer.start();
    }
    if (onChange) watch.listeners.add(onChange);
    await watch.informer.waitForSync(SECRET_READ_TIMEOUT_MS);
    return watch.informer.cache.get(key);
  }

  async createOwnedSecret(owner: KubeObject, name: string, data: Record<string, string>): Promise<boolean> {
    const namespace = owner.metadata.namespace ?? 'default';
    const ownerReferences = [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true }];
    try {
      await this.client.request(collectionPath(SECRETS, namespace), {
        method: 'POST',
        body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace, ownerReferences, labels: { 'app.kubernetes.io/managed-by': 'bootplane' } }, stringData: data },
      });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.isConflict) return false;
      throw err;
    }
  }

  async deleteSecret(namespace: string, name: string): Promise<void> {
    try {
      await this.client.request(objectPath(SECRETS, namespace, name), { method: 'DELETE' });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
    }
  }

  recordEvent(obj: KubeObject, type: EventType, reason: string, action: string, note: string): void {
    this.events.record(obj, type, reason, action, note);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.singleObjectWatches.values()].map((w) => w.informer.stop()));
  }
}
