// The Hypervisor controller with the Proxmox driver, against the real API server and the PVE
// simulator over HTTPS: inventory in status (version, nodes, storages, ISOs) with token or
// ticket auth, a wrong pinned fingerprint refused with a clear condition, and an unreachable
// PVE reported and then recovered from without anyone touching the Hypervisor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../src/config/config.js';
import { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import { runController, type RunningController } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { condition, createNamespace, eventually, getJson, kubectl, kubectlOk, uniqueName } from './support/kube.js';
import { KUBECONFIG } from './support/paths.js';

const TOKEN_ID = 'root@pam!bootplane';
const TOKEN_SECRET = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const PASSWORD = 'sim-password-never-logged';
let controller: RunningController;
let sim: PveSimulator;
let ns: string;

interface HvStatus {
  version?: string;
  nodes?: { name: string; online: boolean }[];
  storages?: { name: string; node?: string; type?: string; content?: string[] }[];
  isos?: { volume: string; sizeBytes?: number }[];
}

beforeAll(async () => {
  sim = new PveSimulator({ nodes: ['pve1', 'pve2'] });
  sim.auth.addToken(TOKEN_ID, TOKEN_SECRET);
  sim.auth.addUser('bootplane@pve', PASSWORD);
  sim.cluster.addIso('local:iso/debian-12.4.0-amd64-netinst.iso', 658 * 2 ** 20);
  sim.cluster.addIso('local:iso/fedora-coreos-40-live.x86_64.iso', 812 * 2 ** 20);
  await sim.start();
  ns = await createNamespace('pvehv');
  await kubectlOk(['create', 'secret', 'generic', 'pve-token', '-n', ns, `--from-literal=tokenId=${TOKEN_ID}`, `--from-literal=tokenSecret=${TOKEN_SECRET}`, `--from-literal=ca.crt=${sim.certificate.cert}`]);
  await kubectlOk(['create', 'secret', 'generic', 'pve-login', '-n', ns, '--from-literal=username=bootplane@pve', `--from-literal=password=${PASSWORD}`, `--from-literal=ca.crt=${sim.certificate.cert}`]);
  controller = await runController(parseControllerConfig({ kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', bootAddr: ':0', consoleAddr: ':0' }), silentLogger());
});

afterAll(async () => {
  await controller?.stop();
  await sim?.stop();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

function hypervisor(name: string, secret: string, extra: string): string {
  return `apiVersion: bootplane.io/v1alpha1
kind: Hypervisor
metadata: {name: ${name}}
spec:
  type: proxmox
  proxmox: {endpoint: "${sim.endpoint}"${secret === 'pve-login' ? ', authMethod: ticket' : ''}}
  credentialsSecretRef: {name: ${secret}, namespace: ${ns}}
  inventoryIntervalSeconds: 30
  requestTimeoutSeconds: 2
${extra}`;
}

async function connected(name: string, reason?: string) {
  return eventually(async () => {
    const c = await condition(`hv/${name}`, 'Connected');
    return c && (reason ? c.reason === reason : c.status === 'True') && c;
  }, `Connected ${reason ?? 'True'} on ${name}`, 60_000, 300);
}

describe('Hypervisor controller with the Proxmox driver', () => {
  it('reports version, nodes, storages and ISOs over a CA-verified token connection', async () => {
    const name = uniqueName('pve-token');
    await kubectlOk(['apply', '-f', '-'], hypervisor(name, 'pve-token', '  tls: {caSecretKey: ca.crt}\n'));
    const c = await connected(name);
    expect(c.message).toBe('Connected to proxmox 9.1.4.');
    expect((await condition(`hv/${name}`, 'Ready'))?.status).toBe('True');
    expect((await condition(`hv/${name}`, 'InsecureTLS'))?.status).toBe('False');
    const { status } = await getJson<{ status: HvStatus }>(['get', 'hv', name]);
    expect(status.version).toBe('9.1.4');
    expect(status.nodes).toEqual([{ name: 'pve1', online: true }, { name: 'pve2', online: true }]);
    expect(status.storages?.map((s) => `${s.node}/${s.name}/${s.type}`)).toEqual(['pve1/local/dir', 'pve1/local-lvm/lvmthin', 'pve2/local/dir', 'pve2/local-lvm/lvmthin']);
    expect(status.storages?.[0]?.content).toContain('iso');
    expect(status.isos).toEqual([
      { volume: 'local:iso/debian-12.4.0-amd64-netinst.iso', sizeBytes: 658 * 2 ** 20 },
      { volume: 'local:iso/fedora-coreos-40-live.x86_64.iso', sizeBytes: 812 * 2 ** 20 },
    ]);
    const everything = JSON.stringify(await getJson(['get', 'hv', name])) + await kubectlOk(['get', 'events.events.k8s.io', '-n', 'default', '-o', 'json']);
    expect(everything).not.toContain(TOKEN_SECRET);
    await kubectlOk(['delete', 'hv', name, '--timeout=30s']);
  });

  it('logs in with a username and password for a ticket', async () => {
    const name = uniqueName('pve-ticket');
    await kubectlOk(['apply', '-f', '-'], hypervisor(name, 'pve-login', '  tls: {caSecretKey: ca.crt}\n'));
    await connected(name);
    expect(sim.auth.logins).toBeGreaterThan(0);
    expect(JSON.stringify(await getJson(['get', 'hv', name]))).not.toContain(PASSWORD);
    await kubectlOk(['delete', 'hv', name, '--timeout=30s']);
  });

  it('refuses a server whose certificate does not match the pinned fingerprint, naming both', async () => {
    const name = uniqueName('pve-pin');
    const wrong = new PveSimulator().certificate.fingerprintSHA256;
    await kubectlOk(['apply', '-f', '-'], hypervisor(name, 'pve-token', `  tls: {fingerprintSHA256: "${wrong}"}\n`));
    const c = await connected(name, 'TLSFingerprintMismatch');
    expect(c.status).toBe('False');
    expect(c.message).toContain(wrong);
    expect(c.message).toContain(sim.certificate.fingerprintSHA256);
    expect((await condition(`hv/${name}`, 'Ready'))).toMatchObject({ status: 'False', reason: 'TLSFingerprintMismatch' });
    // The right pin connects.
    await kubectlOk(['patch', 'hv', name, '--type=merge', '-p', JSON.stringify({ spec: { tls: { fingerprintSHA256: sim.certificate.fingerprintSHA256 } } })]);
    await connected(name);
    await kubectlOk(['delete', 'hv', name, '--timeout=30s']);
  });

  it('reports PVE unreachable, and recovers by itself when it is back', async () => {
    const name = uniqueName('pve-outage');
    await kubectlOk(['apply', '-f', '-'], hypervisor(name, 'pve-token', '  tls: {caSecretKey: ca.crt}\n'));
    await connected(name);
    await sim.stop();
    const down = await connected(name, 'Unreachable');
    expect(down.status).toBe('False');
    expect(down.message).toContain(`Proxmox VE at ${sim.endpoint} is unreachable`);
    await sim.start();
    const up = await connected(name);
    expect(up.reason).toBe('Reachable');
    const events = await kubectlOk(['get', 'events.events.k8s.io', '-n', 'default', '--field-selector', `regarding.name=${name}`, '-o', 'json']);
    expect(events).toContain('Unreachable');
    await kubectlOk(['delete', 'hv', name, '--timeout=30s']);
  }, 150_000);

  it('left no reply outside the PVE schema', () => {
    expect(sim.schemaViolations).toEqual([]);
  });
});
