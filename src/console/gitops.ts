// Objects a GitOps tool owns: a write from the console would be reverted by self-heal, so the
// console offers the change as YAML to commit instead. Detection by the tools' own markers.
import type { KubeObject } from '../kube/object.js';

export interface GitOpsManager {
  tool: 'Argo CD' | 'Flux';
  /** The application or kustomization that owns the object, as its marker names it. */
  owner: string;
}

export function gitOpsManager(obj: KubeObject): GitOpsManager | undefined {
  const labels = obj.metadata.labels ?? {};
  const annotations = obj.metadata.annotations ?? {};
  const tracking = annotations['argocd.argoproj.io/tracking-id'];
  if (tracking) return { tool: 'Argo CD', owner: tracking.split(':')[0] ?? tracking };
  // Argo CD's default label tracking uses app.kubernetes.io/instance; only trust it with Argo's own annotation or no Helm.
  if (labels['argocd.argoproj.io/instance']) return { tool: 'Argo CD', owner: labels['argocd.argoproj.io/instance'] };
  if (labels['app.kubernetes.io/instance'] && labels['app.kubernetes.io/managed-by'] !== 'Helm') return { tool: 'Argo CD', owner: labels['app.kubernetes.io/instance'] };
  const flux = labels['kustomize.toolkit.fluxcd.io/name'] ?? labels['helm.toolkit.fluxcd.io/name'];
  if (flux) return { tool: 'Flux', owner: `${labels['kustomize.toolkit.fluxcd.io/namespace'] ?? labels['helm.toolkit.fluxcd.io/namespace'] ?? ''}/${flux}` };
  return undefined;
}
