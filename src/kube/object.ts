// The shape every object in a cache has; spec and status stay as the API server sent them.
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    ownerReferences?: unknown[];
    managedFields?: unknown;
  };
  [key: string]: unknown;
}

export interface ObjectKey {
  namespace?: string;
  name: string;
}

export function keyOf(obj: { metadata: { name: string; namespace?: string } }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

export function parseKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops what the controllers never read and what costs the most memory per cached object:
 * managedFields and kubectl's last-applied copy of the whole object. The metadata and
 * annotations are rebuilt rather than `delete`d from: a `delete` turns a V8 object into a hash
 * table, which made every cached object's metadata 450 bytes instead of about 100.
 */
export function slim<T extends KubeObject>(obj: T): T {
  const { managedFields, annotations, ...meta } = obj.metadata;
  let kept = annotations;
  if (annotations && LAST_APPLIED in annotations) {
    const { [LAST_APPLIED]: _lastApplied, ...rest } = annotations;
    kept = Object.keys(rest).length > 0 ? rest : undefined;
  }
  if (managedFields === undefined && kept === annotations) return obj;
  obj.metadata = kept ? { ...meta, annotations: kept } : meta;
  return obj;
}

/**
 * True when an update changed nothing but status (the controller's own write coming back):
 * such an update is no reason to reconcile the object again. Spec (generation), labels,
 * annotations, finalizers and deletion all count as changes.
 */
export function onlyStatusChanged(old: KubeObject | undefined, obj: KubeObject): boolean {
  if (!old) return false;
  const a = old.metadata;
  const b = obj.metadata;
  return a.generation === b.generation
    && a.deletionTimestamp === b.deletionTimestamp
    && JSON.stringify(a.labels ?? {}) === JSON.stringify(b.labels ?? {})
    && JSON.stringify(a.annotations ?? {}) === JSON.stringify(b.annotations ?? {})
    && JSON.stringify(a.finalizers ?? []) === JSON.stringify(b.finalizers ?? []);
}
