// Bundles the console's browser code and styles with esbuild into a few files with content
// hashes in their names. `hack/build-console.ts` writes them under dist/console at build time;
// a process run from source (tsx, tests) bundles in memory at start instead.
import { fileURLToPath } from 'node:url';

export interface BundledFile {
  /** File name with its content hash, e.g. main-3KQ2XDIT.js. */
  name: string;
  contents: Uint8Array;
}

export const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));

export async function bundleConsole(): Promise<BundledFile[]> {
  // esbuild is a build-time tool (a devDependency): imported only when bundling.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [`${UI_DIR}main.ts`, `${UI_DIR}style.css`],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome120', 'firefox120'],
    entryNames: '[name]-[hash]',
    outdir: '/console',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  return result.outputFiles.map((f) => ({ name: f.path.slice('/console/'.length), contents: f.contents }));
}
