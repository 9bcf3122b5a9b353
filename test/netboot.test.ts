// Network boot against the real control plane: BootProfile and NodeBootAssignment created with
// kubectl, the reconcilers' conditions, the boot server answering from its caches, the boot
// recorded in status, and boot once turning the next boot into local boot until re-armed.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../src/config/config.js';
import { runController, type RunningController } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { condition, createNamespace, eventually, getJson, kubectl, kubectlOk } from './support/kube.js';
import { KUBECONFIG } from './support/paths.js';
import { freePort } from './support/ports.js';

// MACs of their own per run: the MAC index spans namespaces, and this control plane has no
// namespace controller, so assignments of earlier runs stay behind.
const prefix = `52:54:00:${randomBytes(2).toString('hex').replace(/(..)(..)/, '$1:$2')}`;
const MAC_A = `${prefix}:01`;
const MAC_B = `${prefix}:02`;
let controller: RunningController;
let ns: string;
let base: string;

beforeAll(async () => {
  ns = await createNamespace('netboot');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  controller = await runController(parseControllerConfig({
    kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', consoleAddr: ':0',
    bootAddr: `127.0.0.1:${port}`, bootStatusFlushMs: 200, bootAssetCacheDir: '/tmp/bootplane-netboot-test-assets',
  }), silentLogger());
});

afterAll(async () => {
  await controller?.stop();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

interface AssignmentStatus {
  bootCount?: number;
  bootOnceConsumedEpoch?: number;
  macAddresses?: string[];
  profileScriptHash?: string;
  lastBoot?: { time: string; clientIP: string; scriptHash: string; firmware?: string };
}

const status = async (name: string) => (await getJson<{ status?: AssignmentStatus }>(['get', 'nodebootassignment', name, '-n', ns])).status ?? {};
const fetchText = async (path: string) => {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, body: await r.text() };
};

describe('network boot on the real control plane', () => {
  it('serves the assigned script, records the boot, then boots locally once used until re-armed', async () => {
    await kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: BootProfile
metadata: {name: installer}
spec:
  type: ipxeTemplate
  ipxeTemplate: |
    echo installing {{release}} on {{hostname}}
    shell
  parameters: {release: "1.0"}
  localBoot: exit
---
apiVersion: bootplane.io/v1alpha1
kind: NodeBootAssignment
metadata: {name: node-a}
spec:
  mac: "${MAC_A.toUpperCase()}"
  hostname: node-a
  profileRef: {name: installer}
  parameters: {release: "2.1"}
  bootMode: Once
`);
    await eventually(async () => (await condition(`nodebootassignment/node-a`, 'Ready', ns))?.status === 'True', 'assignment Ready');
    const ready = await status('node-a');
    expect(ready.macAddresses).toEqual([MAC_A]);
    expect(ready.profileScriptHash).toMatch(/^[0-9a-f]{64}$/);
    await eventually(async () => (await condition(`bootprofile/installer`, 'Ready', ns))?.status === 'True', 'profile Ready');
    expect((await getJson<{ status?: { assignments?: number } }>(['get', 'bootprofile', 'installer', '-n', ns])).status?.assignments).toBe(1);

    const chain = await fetchText('/boot.ipxe');
    expect(chain.body).toContain('/ipxe?mac=${net0/mac}');
    const first = await fetchText(`/ipxe?mac=${MAC_A}&uuid=&arch=x86_64&platform=pcbios`);
    expect(first.status).toBe(200);
    expect(first.body).toContain('echo installing 2.1 on node-a');

    const recorded = await eventually(async () => {
      const s = await status('node-a');
      return s.bootCount === 1 && s.bootOnceConsumedEpoch === 0 && s;
    }, 'boot recorded in status');
    expect(recorded.lastBoot).toMatchObject({ clientIP: '127.0.0.1', firmware: 'pcbios' });
    expect(recorded.lastBoot?.scriptHash).toMatch(/^[0-9a-f]{64}$/);

    const second = await fetchText(`/ipxe?mac=${MAC_A}&uuid=&arch=x86_64&platform=pcbios`);
    expect(second.body).toContain('nothing to network-boot');
    expect(second.body).not.toContain('installing');

    await kubectlOk(['patch', 'nodebootassignment', 'node-a', '-n', ns, '--type=merge', '-p', '{"spec":{"bootOnceEpoch":1}}']);
    const rearmed = await eventually(async () => {
      const r = await fetchText(`/ipxe?mac=${MAC_A}`);
      return r.body.includes('installing') && r;
    }, 're-armed assignment boots its profile again');
    expect(rearmed.status).toBe(200);
    await eventually(async () => (await status('node-a')).bootOnceConsumedEpoch === 1, 'epoch 1 consumed');
  });

  it('names a parameter the profile needs but nobody sets, and the machine gets a clear refusal', async () => {
    await kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: BootProfile
metadata: {name: needs-token}
spec:
  type: kernel
  kernel:
    kernel: {path: k/vmlinuz}
    cmdline: "join={{joinUrl}}"
---
apiVersion: bootplane.io/v1alpha1
kind: NodeBootAssignment
metadata: {name: node-b}
spec:
  mac: "${MAC_B}"
  profileRef: {name: needs-token}
`);
    const rendered = await eventually(async () => {
      const c = await condition(`nodebootassignment/node-b`, 'Rendered', ns);
      return c?.status === 'False' && c;
    }, 'Rendered=False');
    expect(rendered.message).toContain('{{joinUrl}}');
    expect((await condition(`nodebootassignment/node-b`, 'Ready', ns))?.status).toBe('False');
    const r = await fetchText(`/ipxe?mac=${MAC_B}`);
    expect(r.status).toBe(500);
    expect(r.body).toContain('parameter joinUrl');
  });

  it('refuses at admission a parameter value that would change the script', async () => {
    const r = await kubectl(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: NodeBootAssignment
metadata: {name: node-c}
spec:
  mac: "52:54:00:aa:00:03"
  profileRef: {name: installer}
  parameters: {release: "1 || shell"}
`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('would change the iPXE script');
  });

  it('gives an unknown machine the fallback menu and answers stats from the caches', async () => {
    const r = await fetchText('/ipxe?mac=52:54:00:ee:ee:ee');
    expect(r.body).toContain('choose --default local');
    const stats = JSON.parse((await fetchText('/api/v1/boot/stats')).body) as { assignments: { total: number }; fallbacks: Record<string, number> };
    expect(stats.assignments.total).toBeGreaterThanOrEqual(2);
    expect(stats.fallbacks.UnknownMachine).toBeGreaterThanOrEqual(1);
  });
});
