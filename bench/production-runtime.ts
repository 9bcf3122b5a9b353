// How the container image runs the controller, read from the Dockerfile itself so the
// benchmarks measure the process users run: the node flags of its ENTRYPOINT and its ENV.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../test/support/paths.js';

export interface Runtime {
  nodeFlags: string[];
  env: Record<string, string>;
}

export function productionRuntime(dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')): Runtime {
  const stage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM ')); // the final image
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(stage);
  if (!entrypoint) throw new Error('Dockerfile: no ENTRYPOINT in the final stage');
  const nodeFlags = (JSON.parse(entrypoint[1]!) as string[]).filter((arg) => arg.startsWith('--'));
  const env: Record<string, string> = {};
  for (const [, name, value] of stage.matchAll(/^ENV (\w+)=(\S+)$/gm)) env[name!] = value!;
  return { nodeFlags, env };
}
