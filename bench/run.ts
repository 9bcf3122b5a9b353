// `npm run bench -- <name> [<name>...]`: runs benchmarks by name; each prints JSON lines.
const BENCHMARKS: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  queue: () => import('./queue.js'),
  ipxe: () => import('./ipxe.js'),
  assets: () => import('./assets.js'),
  'informer-memory': () => import('./informer-memory.js'),
  'status-writes': () => import('./status-writes.js'),
  'proxmox-calls': () => import('./proxmox-calls.js'),
  'proxmox-converge': () => import('./proxmox-converge.js'),
  'libvirt-op': () => import('./libvirt-op.js'),
  'guest-agent-exec': () => import('./guest-agent-exec.js'),
  diskless: () => import('./diskless.js'),
  console: () => import('./console.js'),
  'scale-1k': () => import('./scale.js').then((m) => ({ run: () => m.runScale('scale-1k', 1_000) })),
  'steady-state': () => import('./steady-state.js'),
  soak: () => import('./soak.js'),
  'scale-10k': () => import('./scale.js').then((m) => ({ run: () => m.runScale('scale-10k', 10_000) })),
};

const names = process.argv.slice(2);
if (names.length === 0 || names.some((n) => !(n in BENCHMARKS))) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> ...`);
  process.exit(2);
}
// These run against the test control plane: it is started if it is not running, and the CRDs
// are applied from crds/ as the integration suite does. Measured against CRDs an earlier
// checkout installed, the API server prunes every status field added since and the figures
// describe neither version.
const ON_CONTROL_PLANE = new Set(['informer-memory', 'status-writes', 'proxmox-calls', 'proxmox-converge', 'scale-1k', 'steady-state', 'soak', 'scale-10k']);
if (names.some((n) => ON_CONTROL_PLANE.has(n))) {
  const { default: startControlPlaneWithCrds } = await import('../test/support/global-setup.js');
  startControlPlaneWithCrds();
}
for (const name of names) {
  const bench = await BENCHMARKS[name]!();
  await bench.run();
}
process.exit(0);
