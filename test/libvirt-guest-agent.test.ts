// In-guest provisioning on the real libvirtd, through the real API server and controller: the
// test guest (Debian kernel, busybox, qemu-guest-agent) boots on qemu user networking; bootplane
// waits for its agent, reads its facts, mounts a share from a real NFS server on this machine
// (NFS-Ganesha on loopback, 10.0.2.2 from the guest) through fstab and `mount -a`, and writes
// files from a ConfigMap and a Secret. The guest itself is the oracle: the test reads back through
// the agent (guestShell), and the NFS export on the host sees what the guest wrote. A second pass
// makes no agent writes (bootplane_guest_agent_writes_total). A domain without the agent channel
// times out with a message that says what to check.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../src/config/config.js';
import { LibvirtDriver } from '../src/hypervisors/libvirt/driver.js';
import { runController, type RunningController } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { guestAgentMetrics, reconcileMetrics } from '../src/observability/metrics.js';
import { guestShell } from './support/guest-agent.js';
import { condition, createNamespace, eventually, getJson, kubectl, kubectlOk, uniqueName } from './support/kube.js';
import { domainType, LIBVIRT_URI, removeDomain, testGuest } from './support/libvirt.js';
import { startNfsServer, type NfsServer } from './support/nfs-server.js';
import { KUBECONFIG } from './support/paths.js';

const TOKEN = 'libvirt-token-8d2e41c7-private';
// More than one guest-file-write chunk (48 KiB).
const BIG = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'y'.repeat(40)}`).join('\n') + '\n';
let controller: RunningController;
let driver: LibvirtDriver;
let nfs: NfsServer;
let ns: string;
let hv: string;
const withAgent = uniqueName('guest-ga');
const withoutAgent = uniqueName('guest-noga');

function domainXml(name: string, agentChannel: boolean): string {
  const guest = testGuest();
  return `<domain type='${domainType()}'>
  <name>${name}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
  <devices>
    <interface type='user'><model type='virtio'/></interface>
    ${agentChannel ? "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>" : ''}
    <memballoon model='none'/>
  </devices>
</domain>`;
}

beforeAll(async () => {
  nfs = await startNfsServer('guest');
  writeFileSync(join(nfs.dir, 'from-host.txt'), 'written on the NFS server\n');
  driver = new LibvirtDriver({ uri: LIBVIRT_URI, storagePool: 'default', maxInFlightCalls: 5, requestTimeoutSeconds: 30 });
  await driver.client.defineDomain(domainXml(withAgent, true));
  await driver.client.defineDomain(domainXml(withoutAgent, false));
  ns = await createNamespace('guestlv');
  hv = uniqueName('guest-lv');
  await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system", storagePool: default}}\n`);
  controller = await runController(parseControllerConfig({ kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', bootAddr: ':0' }), silentLogger());
}, 120_000);

afterAll(async () => {
  await kubectl(['delete', 'virtualmachines', '--all', '-n', ns, '--timeout=60s']);
  await kubectl(['delete', 'hv', hv, '--timeout=60s']);
  await controller?.stop();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  await driver?.close();
  await removeDomain(withAgent);
  await removeDomain(withoutAgent);
  await nfs?.stop();
});

const cond = (name: string, type: string) => condition(`vm/${name}`, type, ns);
const apply = (doc: unknown) => kubectlOk(['apply', '-f', '-'], JSON.stringify(doc));
const vm = (name: string, domainName: string, spec: Record<string, unknown>) => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace: ns },
  spec: { hypervisorRef: { name: hv }, libvirt: { domainName }, powerState: 'Running', ...spec },
});
const agentWrites = async () => (await guestAgentMetrics.writes.get()).values.reduce((n, v) => n + v.value, 0);
const vmReconciles = async () => (await reconcileMetrics.total.get()).values.filter((v) => /virtual/i.test(String(v.labels.controller))).reduce((n, v) => n + v.value, 0);

async function shell(script: string): Promise<{ exitcode: number; out: string; err: string }> {
  return guestShell(driver.client, await driver.client.lookupDomainByName(withAgent), script);
}

describe('guest agent on libvirt with the test guest', () => {
  it('waits for the agent, reads facts, mounts a real NFS share through fstab, writes files; a second pass writes nothing', async () => {
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'motd', namespace: ns }, data: { motd: 'hello from a ConfigMap\n' } });
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: ns }, stringData: { token: TOKEN } });
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big', namespace: ns }, data: { big: BIG } });
    const options = nfs.mountOptions('10.0.2.2');
    await apply(vm('ga', withAgent, {
      guestAgent: { timeoutSeconds: 300 },
      nfsMounts: [{ server: '10.0.2.2', export: nfs.exportPath, mountPath: '/mnt/share', options }],
      files: [
        { path: '/etc/bootplane/motd', configMapRef: { name: 'motd', key: 'motd' } },
        { path: '/root/token', mode: '0600', owner: 'root:root', secretRef: { name: 'token', key: 'token' } },
        { path: '/var/lib/app/big.txt', configMapRef: { name: 'big', key: 'big' } },
      ],
    }));
    await eventually(async () => (await cond('ga', 'GuestAgentReady'))?.status === 'True', 'the guest agent', 240_000, 1000);
    await eventually(async () => (await cond('ga', 'NfsMounted'))?.status === 'True' && (await cond('ga', 'FilesInjected'))?.status === 'True', 'NFS and files', 180_000, 1000);

    const status = (await getJson<{ status: { guest: Record<string, unknown> } }>(['get', 'vm', 'ga', '-n', ns])).status;
    expect(status.guest).toMatchObject({ osRelease: 'bootplane test guest (busybox)', hostname: 'bootplane-testguest' });
    expect(status.guest.ipAddresses).toContain('10.0.2.15');
    expect(status.guest.cloudInit).toBeUndefined(); // no cloud-init in this guest
    expect(await cond('ga', 'CloudInitFinished')).toBeUndefined();

    // The guest is the oracle.
    const fstab = await shell('cat /etc/fstab');
    expect(fstab.out).toContain('none /mnt/scratch tmpfs noauto 0 0'); // the guest's own line stays
    expect(fstab.out).toContain(`# bootplane: /mnt/share\n10.0.2.2:${nfs.exportPath} /mnt/share nfs ${options} 0 0\n`);
    expect(fstab.out.match(/ \/mnt\/share nfs /g)).toHaveLength(1);
    expect((await shell('grep " /mnt/share nfs " /proc/mounts')).exitcode).toBe(0);
    expect((await shell('cat /mnt/share/from-host.txt')).out).toBe('written on the NFS server\n');
    expect((await shell('echo written-in-the-guest > /mnt/share/from-guest.txt && sync')).exitcode).toBe(0);
    expect(readFileSync(join(nfs.dir, 'from-guest.txt'), 'utf8')).toBe('written-in-the-guest\n');
    expect((await shell('cat /etc/bootplane/motd')).out).toBe('hello from a ConfigMap\n');
    expect((await shell('cat /root/token')).out).toBe(TOKEN);
    expect((await shell('sha256sum /var/lib/app/big.txt')).out.split(' ')[0]).toBe(createHash('sha256').update(BIG).digest('hex'));
    expect((await shell("stat -c '%a %U:%G' /root/token /etc/bootplane/motd")).out).toBe('600 root:root\n644 root:root\n');
    const events = await kubectlOk(['get', 'events.events.k8s.io', '-n', ns, '-o', 'json']);
    expect(JSON.stringify(status) + events).not.toContain(TOKEN);

    // A second pass: no agent writes.
    const writes = await agentWrites();
    expect(writes).toBeGreaterThan(0);
    const passes = await vmReconciles();
    await kubectlOk(['annotate', 'vm', 'ga', '-n', ns, '--overwrite', `test/pass=${Date.now()}`]);
    await eventually(async () => (await vmReconciles()) > passes, 'another pass', 60_000, 250);
    expect(await agentWrites()).toBe(writes);
    expect(await cond('ga', 'NfsMounted')).toMatchObject({ status: 'True', reason: 'UpToDate' });
    expect(await cond('ga', 'FilesInjected')).toMatchObject({ status: 'True', reason: 'UpToDate' });

    // A changed ConfigMap is written again (its watch re-queues the VM); only that file.
    const tokenChanged = (await shell('stat -c %Z /root/token')).out;
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'motd', namespace: ns }, data: { motd: 'changed\n' } });
    await eventually(async () => (await shell('cat /etc/bootplane/motd')).out === 'changed\n', 'the new content in the guest', 60_000, 1000);
    expect((await shell('stat -c %Z /root/token')).out).toBe(tokenChanged);
  }, 600_000);

  it('times out, with what to check, when the domain has no agent channel; no hot loop', async () => {
    await apply(vm('noga', withoutAgent, { guestAgent: { timeoutSeconds: 20 } }));
    await eventually(async () => (await cond('noga', 'GuestAgentReady'))?.reason === 'Waiting', 'waiting', 120_000, 500);
    const timedOut = await eventually(async () => {
      const c = await cond('noga', 'GuestAgentReady');
      return c?.reason === 'Timeout' && c;
    }, 'timeout', 90_000, 1000);
    expect(timedOut.status).toBe('False');
    expect(timedOut.message).toContain('did not answer within 20 s');
    expect(timedOut.message).toContain('org.qemu.guest_agent.0');
    const passes = await vmReconciles();
    await new Promise((r) => setTimeout(r, 10_000));
    expect((await vmReconciles()) - passes).toBeLessThanOrEqual(2);
  }, 300_000);
});
