// A Proxmox VE simulator registered as a Hypervisor on the real control plane, with the
// controller running in-process: what every Proxmox end-to-end file starts from.
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { parseControllerConfig } from '../../src/config/config.js';
import { PveSimulator } from '../../src/hypervisors/proxmox/simulator/server.js';
import { runController, type RunningController } from '../../src/main.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createNamespace, kubectl, kubectlOk, uniqueName } from './kube.js';
import { KUBECONFIG } from './paths.js';

export const TOKEN_ID = 'root@pam!bootplane';
export const TOKEN_SECRET = '9a8b7c6d-0000-4000-8000-1234567890ab';

export interface ProxmoxSite {
  sim: PveSimulator;
  controller: RunningController;
  /** Namespace for the test's objects; the credentials Secret `pve` lives there. */
  ns: string;
  /** Name of the Hypervisor pointing at the simulator. */
  hv: string;
}

/** Starts the simulator (seeded by `seed` before it listens), the Hypervisor and the controller (`config` overrides its settings, e.g. bootAddr). */
export async function startProxmoxSite(prefix: string, seed: (sim: PveSimulator) => void = () => undefined, config: Record<string, unknown> = {}): Promise<ProxmoxSite> {
  const sim = new PveSimulator({ nodes: ['pve1'] });
  sim.auth.addToken(TOKEN_ID, TOKEN_SECRET);
  seed(sim);
  await sim.start();
  const ns = await createNamespace(prefix);
  const hv = uniqueName(prefix);
  await kubectlOk(['create', 'secret', 'generic', 'pve', '-n', ns, `--from-literal=tokenId=${TOKEN_ID}`, `--from-literal=tokenSecret=${TOKEN_SECRET}`, `--from-literal=ca.crt=${sim.certificate.cert}`]);
  await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: Hypervisor
metadata: {name: ${hv}}
spec:
  type: proxmox
  proxmox: {endpoint: "${sim.endpoint}", isoStorage: local}
  credentialsSecretRef: {name: pve, namespace: ${ns}}
  tls: {caSecretKey: ca.crt}
  requestTimeoutSeconds: 5
`);
  const controller = await runController(parseControllerConfig({ kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', bootAddr: ':0', consoleAddr: ':0', ...config }), silentLogger());
  return { sim, controller, ns, hv };
}

/**
 * Deletes the test's objects while the controller still runs (finalizers detach what was
 * attached and let go), then stops everything.
 */
export async function stopProxmoxSite(site: ProxmoxSite | undefined, kinds: string): Promise<void> {
  if (!site) return;
  await kubectl(['delete', kinds, '--all', '-n', site.ns, '--timeout=120s']);
  await kubectl(['delete', 'hv', site.hv, '--timeout=60s']);
  await site.controller.stop();
  await kubectl(['delete', 'namespace', site.ns, '--wait=false']);
  await site.sim.stop();
}

/**
 * The hooks a Proxmox end-to-end file starts from: the site started before its tests (seeded by
 * `seed`), the simulator's faults cleared and its replies checked against the schema after each
 * test, and the site stopped (deleting `kinds` first) after them. The site is on the returned
 * holder once the file's own beforeAll hooks run (these are registered first).
 */
export function useProxmoxSite(prefix: string, seed?: (sim: PveSimulator) => void, kinds = 'isoattachments,virtualmachines'): { site: ProxmoxSite } {
  const held = {} as { site: ProxmoxSite };
  beforeAll(async () => {
    held.site = await startProxmoxSite(prefix, seed);
  });
  afterEach(() => {
    held.site?.sim.faults.reset();
    expect(held.site?.sim.schemaViolations ?? []).toEqual([]);
  });
  afterAll(async () => {
    await stopProxmoxSite(held.site, kinds);
  });
  return held;
}
