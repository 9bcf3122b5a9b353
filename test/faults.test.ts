// Faults against the real control plane and the PVE simulator, each ending in convergence with
// nothing lost or duplicated: a watch that stays open but goes silent, the leader killed while a
// slow power task it sent is still running, and etcd restarted while reconciles are under way.
// (kube-apiserver restarts: resilience.test.ts; credential rotation and Hypervisor deletion with
// the force-delete escape hatch: hypervisor-controller.test.ts; PVE failures midway, digest
// conflicts and an unreachable PVE: proxmox-vm.test.ts and proxmox-hypervisor.test.ts; PVE calls
// that never answer, locked VMs, a slow create across a restart and libvirtd restarted:
// faults-hypervisors.test.ts.)
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import { KubeClient } from '../src/kube/client.js';
import { Informer } from '../src/kube/informer.js';
import type { KubeObject } from '../src/kube/object.js';
import { CONFIGMAPS } from '../src/kube/resources.js';
import { informerMetrics } from '../src/observability/metrics.js';
import { silentLogger } from '../src/observability/logger.js';
import { ControllerProcess } from './support/controller-process.js';
import { createNamespace, eventually, getJson, kubectl, kubectlOk, uniqueName } from './support/kube.js';
import { KUBECONFIG, ROOT } from './support/paths.js';
import { TOKEN_ID, TOKEN_SECRET } from './support/proxmox.js';

let ns: string;

beforeAll(async () => {
  ns = await createNamespace('faults');
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

/**
 * A TCP proxy in front of the API server that can go silent: after freeze(), connections open
 * at that moment stay open but pass nothing back, as a half-dead NAT or load balancer does. A
 * frozen connection the client tries to reuse for a new request is closed, so new requests go
 * through on fresh connections; only the idle-looking watch is left hanging.
 */
class FreezingProxy {
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  private server: Server | undefined;
  port = 0;

  async start(target: number): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      const pair = { client, upstream, frozen: false };
      this.pairs.add(pair);
      client.on('data', (d) => {
        if (pair.frozen) return void (client.destroy(), upstream.destroy());
        upstream.write(d);
      });
      upstream.on('data', (d) => { if (!pair.frozen) client.write(d); });
      const close = () => { client.destroy(); upstream.destroy(); this.pairs.delete(pair); };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  freeze(): number {
    for (const p of this.pairs) p.frozen = true;
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) { p.client.destroy(); p.upstream.destroy(); }
    await new Promise((r) => this.server?.close(r));
  }
}

async function silentRelists(): Promise<number> {
  return (await informerMetrics.relists.get()).values.filter((v) => v.labels.reason === 'silent').reduce((n, v) => n + v.value, 0);
}

describe('a watch that stays open but silent', () => {
  it('is found by the watchdog, relisted, and a change made meanwhile is seen', async () => {
    const proxy = new FreezingProxy();
    const apiPort = Number(new URL(/server: (\S+)/.exec(readFileSync(KUBECONFIG, 'utf8'))![1]!).port);
    await proxy.start(apiPort);
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'faults-')), 'kubeconfig');
    writeFileSync(kubeconfig, readFileSync(KUBECONFIG, 'utf8').replace(/server: \S+/, `server: https://127.0.0.1:${proxy.port}`));
    const client = await KubeClient.create({ kubeconfigPath: kubeconfig, connections: 4 });
    const informer = new Informer<KubeObject>(client, CONFIGMAPS, { namespace: ns, watchdogMs: 3_000, logger: silentLogger(), resyncMs: 0 });
    try {
      informer.start();
      await informer.waitForSync(30_000);
      // Let the watch be established (its request sent) before the line goes quiet.
      await new Promise((r) => setTimeout(r, 500));
      const before = await silentRelists();
      expect(proxy.freeze()).toBeGreaterThan(0);
      const name = uniqueName('after-freeze');
      await kubectlOk(['create', 'configmap', name, '-n', ns, '--from-literal=k=v']);
      await eventually(async () => informer.cache.get(`${ns}/${name}`) !== undefined, 'the object created during the silence in the cache', 30_000);
      expect(await silentRelists()).toBeGreaterThan(before);
    } finally {
      await informer.stop();
      await client.close();
      await proxy.stop();
    }
  });
});

describe('the leader killed while its power task runs', () => {
  let sim: PveSimulator;
  const replicas: ControllerProcess[] = [];
  const hv = uniqueName('faults-pve');

  beforeAll(async () => {
    sim = new PveSimulator({ nodes: ['pve1'] });
    sim.auth.addToken(TOKEN_ID, TOKEN_SECRET);
    sim.cluster.addIso('local:iso/installer.iso');
    sim.cluster.addVm({ vmid: 700, node: 'pve1', config: { name: 'slow', ostype: 'l26', scsi0: 'local-lvm:vm-700-disk-0,size=8G', net0: 'virtio=BC:24:11:00:07:00,bridge=vmbr0', boot: 'order=scsi0;net0' } });
    await sim.start();
    await kubectlOk(['create', 'secret', 'generic', 'pve', '-n', ns, `--from-literal=tokenId=${TOKEN_ID}`, `--from-literal=tokenSecret=${TOKEN_SECRET}`, `--from-literal=ca.crt=${sim.certificate.cert}`]);
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec:\n  type: proxmox\n  proxmox: {endpoint: "${sim.endpoint}", isoStorage: local}\n  credentialsSecretRef: {name: pve, namespace: ${ns}}\n  tls: {caSecretKey: ca.crt}\n`);
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
    await kubectl(['patch', 'vm', 'slow', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await kubectl(['patch', 'isoattachment', 'slow-installer', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await kubectl(['delete', 'vm,isoattachment', '--all', '-n', ns, '--wait=false']);
    await kubectl(['delete', 'hv', hv, '--wait=false']);
    await kubectl(['patch', 'hv', hv, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await sim?.stop();
  });

  it('hands over to a replica that waits for the task instead of starting the VM again, then converges', async () => {
    const flags = { 'lease-namespace': ns, 'lease-duration-seconds': '6', 'renew-deadline-seconds': '4', 'retry-period-seconds': '1' };
    replicas.push(new ControllerProcess(uniqueName('a'), flags), new ControllerProcess(uniqueName('b'), flags));
    const holder = async () => (await getJson<{ spec: { holderIdentity?: string } }>(['get', 'lease', '-n', ns, 'bootplane-controller']).catch(() => undefined))?.spec.holderIdentity || undefined;
    await eventually(holder, 'a lease holder', 90_000);
    await eventually(async () => replicas.every((r) => r.has((l) => l.msg === 'cache synced')), 'both caches synced', 90_000);
    // Whoever leads when the call arrives (on a loaded machine the lease can change hands).
    const leading = () => replicas.map((r) => ({ r, at: Math.max(0, ...r.lines.filter((l) => l.msg === 'became leader').map((l) => Date.parse(String(l.time)))) })).sort((x, y) => y.at - x.at)[0]!.r;

    // qmstart takes 8 s; the leader dies the moment its start request reaches PVE, before it can
    // record the task it started.
    sim.faults.taskDurationMs = 8_000;
    let killed: ControllerProcess | undefined;
    sim.faults.beforeCalls({ method: 'POST', path: /\/qemu\/700\/status\/start$/, times: 1 }, () => {
      killed = leading();
      void killed.kill('SIGKILL');
    });
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: slow, namespace: ${ns}}\nspec:\n  hypervisorRef: {name: ${hv}}\n  proxmox: {node: pve1, vmid: 700}\n  bootOrder: {preset: cdrom_hd}\n  powerState: Running\n---\napiVersion: bootplane.io/v1alpha1\nkind: IsoAttachment\nmetadata: {name: slow-installer, namespace: ${ns}}\nspec:\n  vmRef: {name: slow}\n  source: {volume: "local:iso/installer.iso"}\n`);
    await eventually(async () => killed, 'the leader sending start and being killed', 90_000);
    const survivor = replicas.find((r) => r !== killed)!;
    await eventually(async () => (await holder()) === survivor.identity, 'the other replica leading', 30_000);
    const [leader, follower] = [killed!, survivor];

    const vm = sim.cluster.vms.get(700)!;
    await eventually(async () => vm.running && (await getJson<{ status?: { operation?: unknown; power?: string } }>(['get', 'vm', 'slow', '-n', ns])).status?.operation === undefined, 'the VM running and no operation left in status', 90_000);
    const iso = await eventually(async () => {
      const o = await getJson<{ status?: { phase?: string } }>(['get', 'isoattachment', 'slow-installer', '-n', ns]);
      return o.status?.phase === 'Attached' && o;
    }, 'the ISO Attached', 60_000);
    expect(iso.status?.phase).toBe('Attached');
    // Give the new leader a few more passes in which it could wrongly start the VM again.
    await new Promise((r) => setTimeout(r, 5_000));
    const powerLines = (r: ControllerProcess) => r.lines.filter((l) => /power|operation|resum/i.test(l.msg)).map((l) => `${r.identity} ${String(l.time)} ${l.msg}`);
    const events = (await kubectl(['get', 'events', '-n', ns, '-o', 'custom-columns=T:.eventTime,R:.reason,N:.note,BY:.reportingInstance', '--sort-by=.eventTime'])).stdout;
    expect(sim.calls.filter((c) => /^POST .*\/qemu\/700\/status\/start$/.test(c)), [...powerLines(leader), ...powerLines(follower), events].join('\n')).toHaveLength(1);
    expect(Object.values(vm.config).filter((v) => v.startsWith('local:iso/installer.iso,'))).toHaveLength(1);
    expect(sim.schemaViolations).toEqual([]);
    // Debug logs of both replicas, status and Events carry no credential.
    const everything = JSON.stringify(replicas.map((r) => r.lines)) + JSON.stringify(await getJson(['get', 'vm,isoattachment,hv', '-A'])) + events;
    expect(everything).not.toContain(TOKEN_SECRET);
  });
});

describe('etcd restarted while reconciles are under way', () => {
  it('loses no change: everything created around the outage is reconciled', async () => {
    const controller = new ControllerProcess(uniqueName('etcd'), { 'leader-elect': 'false' });
    try {
      await eventually(async () => controller.has((l) => l.msg === 'controller started'), 'controller started', 90_000);
      const names = Array.from({ length: 10 }, (_, i) => `etcd-${i}-${uniqueName('hv')}`);
      const hvYaml = (name: string) => `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${name}}\nspec: {type: libvirt, libvirt: {uri: "qemu+tcp://192.0.2.1/system"}}\n`;
      for (const name of names.slice(0, 5)) await kubectlOk(['apply', '-f', '-'], hvYaml(name));
      await promisify(execFile)(join(ROOT, 'hack', 'control-plane.sh'), ['restart-etcd', '5']);
      for (const name of names.slice(5)) await kubectlOk(['apply', '-f', '-'], hvYaml(name));
      for (const name of names) {
        await eventually(async () => {
          const o = await getJson<{ status?: { conditions?: { type: string }[] } }>(['get', 'hv', name]);
          return o.status?.conditions?.some((c) => c.type === 'Ready');
        }, `${name} reconciled`, 90_000);
      }
      await kubectlOk(['delete', 'hv', ...names, '--wait=false']);
    } finally {
      await controller.kill('SIGTERM');
    }
  });
});
