// What controllers need from a stream of objects of one kind: a cache with indexes and change
// notifications. The Informer (Kubernetes) and the directory store (standalone) both provide it.
import type { Cache } from './cache.js';
import type { InformerHandler } from './informer.js';
import type { KubeObject } from './object.js';

export interface ObjectSource<T extends KubeObject = KubeObject> {
  readonly cache: Cache<T>;
  on(handler: InformerHandler<T>): void;
  readonly hasSynced: boolean;
}
