// The small interface reconcilers read and write resources through. Kubernetes mode implements
// it over informer caches and the API server; standalone mode over a directory of manifests.
// Reads come from caches; the only writes are status, finalizers and Events — never spec.
import type { KubeObject } from '../kube/object.js';
import type { EventType } from '../kube/events.js';

export interface SecretData {
  namespace: string;
  name: string;
  resourceVersion?: string;
  /** Decoded values. Never log, copy into status, or put in an error message. */
  data: Record<string, string>;
}

export interface ConfigMapData {
  namespace: string;
  name: string;
  resourceVersion?: string;
  data: Record<string, string>;
}

export interface ResourceStore {
  /** An object from the cache, or undefined. Do not mutate it. */
  get<T extends KubeObject>(kind: string, key: string): T | undefined;
  list<T extends KubeObject>(kind: string): Iterable<T>;
  byIndex<T extends KubeObject>(kind: string, index: string, value: string): T[];
  /** Writes status when it differs from the cached object's; returns whether it wrote. */
  /**
   * With `requireCurrent`, the write fails with a conflict when obj (usually from a cache) is
   * older than the stored object: a decision made on stale state is not acted on.
   */
  writeStatus(kind: string, obj: KubeObject, status: Record<string, unknown>, options?: { requireCurrent?: boolean }): Promise<boolean>;
  addFinalizer(kind: string, obj: KubeObject): Promise<void>;
  removeFinalizer(kind: string, obj: KubeObject): Promise<void>;
  /**
   * Reads a Secret and keeps watching it; onChange fires when its content changes so that
   * dependants reconcile again (credential rotation without restart). Listeners are kept by
   * identity: pass the same function on every call (one per dependant), never a fresh closure.
   */
  getSecret(namespace: string, name: string, onChange?: () => void): Promise<SecretData | undefined>;
  /** Reads a ConfigMap and keeps watching it, as getSecret does (data and binaryData as text). */
  getConfigMap?(namespace: string, name: string, onChange?: () => void): Promise<ConfigMapData | undefined>;
  recordEvent(obj: KubeObject, type: EventType, reason: string, action: string, note: string): void;
}
