// Starts the real control plane (kube-apiserver + etcd built from their Go modules) once for
// the integration suite and installs the CRDs from crds/.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { KUBECONFIG, ROOT } from './paths.js';

export default function setup(): void {
  execFileSync(join(ROOT, 'hack', 'control-plane.sh'), ['up'], { stdio: 'inherit' });
  const env = { ...process.env, KUBECONFIG };
  execFileSync('kubectl', ['apply', '--server-side', '--force-conflicts', '-k', join(ROOT, 'crds')], { stdio: 'inherit', env });
  execFileSync('kubectl', ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=bootplane'], { stdio: 'inherit', env });
}
