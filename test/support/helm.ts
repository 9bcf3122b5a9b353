import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { KUBECONFIG, ROOT } from './paths.js';

let helmPath: string | undefined;

/** helm built from its Go module by hack/helm.sh (cached). */
export function helmBinary(): string {
  helmPath ??= execFileSync(join(ROOT, 'hack', 'helm.sh'), { encoding: 'utf8' }).trim();
  return helmPath;
}

export function helm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(helmBinary(), args, { env: { ...process.env, KUBECONFIG }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
