// In-guest provisioning on Proxmox end to end: the real API server and controller, the PVE
// simulator over HTTPS with its /agent/* endpoints (every request and reply checked against the
// official schema) and a small in-memory guest behind them. Agent wait and timeout, guest facts,
// cloud-init status, NFS shares (package, fstab, mount -a, edits, removal), files from
// ConfigMaps and Secrets, and a second pass that changes nothing in the guest.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimGuest } from '../src/hypervisors/proxmox/simulator/guest.js';
import type { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import { condition, eventually, getJson, kubectlOk } from './support/kube.js';
import { startProxmoxSite, stopProxmoxSite, type ProxmoxSite } from './support/proxmox.js';

const TOKEN = 'app-token-5f1c9e2a-private';
const CLOUD_INIT_DONE = 'status: done\nextended_status: done\nboot_status_code: enabled-by-generator\ndetail:\nDataSourceNoCloud [seed=/dev/sr0][dsmode=net]\nerrors: []\n';
let site: ProxmoxSite;
let sim: PveSimulator;
let ns: string;
let hv: string;

beforeAll(async () => {
  site = await startProxmoxSite('pvega');
  ({ sim, ns, hv } = site);
});

afterEach(() => {
  expect(sim.schemaViolations).toEqual([]);
});

afterAll(async () => {
  await stopProxmoxSite(site, 'virtualmachines');
});

interface VmJson { status?: { guest?: Record<string, unknown>; conditions?: { type: string; status: string; reason: string; message: string }[] } }
const cond = (name: string, type: string) => condition(`vm/${name}`, type, ns);
const vmJson = (name: string) => getJson<VmJson>(['get', 'vm', name, '-n', ns]);
const apply = (doc: unknown) => kubectlOk(['apply', '-f', '-'], typeof doc === 'string' ? doc : JSON.stringify(doc));
const MUTATING = /^(write |exec (mkdir|chmod|chown|mv|rm|mount|umount|apt-get|dnf|env) )/;
const guestWrites = (guest: SimGuest) => guest.journal.filter((e) => MUTATING.test(e));
const pings = (vmid: number) => sim.calls.filter((c) => c === `POST /nodes/pve1/qemu/${vmid}/agent/ping`).length;

function addRunningVm(vmid: number, guest: SimGuest | undefined, agent = true): void {
  const vm = sim.cluster.addVm({ vmid, running: true, config: { name: `vm${vmid}`, ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=8G`, boot: 'order=scsi0', ...(agent ? { agent: '1' } : {}) } });
  vm.guest = guest;
}

function vmDoc(name: string, vmid: number, spec: Record<string, unknown>): unknown {
  return { apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace: ns }, spec: { hypervisorRef: { name: hv }, proxmox: { node: 'pve1', vmid }, ...spec } };
}

/** Makes the controller reconcile again (an annotation is a watch event) and waits for the pass. */
async function anotherPass(name: string, vmid: number): Promise<void> {
  const before = pings(vmid);
  await kubectlOk(['annotate', 'vm', name, '-n', ns, '--overwrite', `test/pass=${Date.now()}`]);
  await eventually(async () => pings(vmid) > before, 'another reconcile', 30_000, 200);
  await new Promise((r) => setTimeout(r, 1500)); // the rest of that pass
}

describe('guest agent on Proxmox', () => {
  it('provisions a Debian guest: facts, cloud-init, NFS client + fstab + mount, files; a second pass writes nothing', async () => {
    const vmid = 710;
    const guest = new SimGuest({ hostname: 'web-1', packageManager: 'apt', cloudInit: { output: CLOUD_INIT_DONE, exitCode: 0 }, reachableExports: ['nas.example.test:/srv/share'] });
    addRunningVm(vmid, guest);
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'motd', namespace: ns }, data: { motd: 'Welcome to web-1\n' } });
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app', namespace: ns }, stringData: { token: TOKEN } });
    await apply(vmDoc('web', vmid, {
      guestAgent: { timeoutSeconds: 60 },
      nfsMounts: [{ server: 'nas.example.test', export: '/srv/share', mountPath: '/mnt/share', options: 'rw,hard' }],
      files: [
        { path: '/etc/motd', configMapRef: { name: 'motd', key: 'motd' } },
        { path: '/etc/app/token', mode: '0600', owner: 'app:app', secretRef: { name: 'app', key: 'token' } },
      ],
    }));
    await eventually(async () => (await cond('web', 'FilesInjected'))?.status === 'True' && (await cond('web', 'NfsMounted'))?.status === 'True', 'guest provisioned', 60_000, 300);

    const status = (await vmJson('web')).status!;
    expect(status.guest).toMatchObject({ osRelease: 'Debian GNU/Linux 12 (bookworm)', hostname: 'web-1', ipAddresses: ['10.0.0.5'], cloudInit: { status: 'done' } });
    expect(status.guest!.mountsHash).toMatch(/^[0-9a-f]{32}$/);
    expect(status.guest!.filesHash).toMatch(/^[0-9a-f]{32}$/);
    expect(await cond('web', 'GuestAgentReady')).toMatchObject({ status: 'True', reason: 'Connected' });
    expect(await cond('web', 'CloudInitFinished')).toMatchObject({ status: 'True', reason: 'Done' });

    expect(guest.packages.has('nfs-common')).toBe(true);
    const fstab = guest.text('/etc/fstab')!;
    expect(fstab.match(/\/mnt\/share nfs/g)).toHaveLength(1);
    expect(fstab).toContain('# bootplane: /mnt/share\nnas.example.test:/srv/share /mnt/share nfs rw,hard 0 0\n');
    expect(fstab).toContain('UUID=1111-2222 / ext4'); // the guest's own line stays
    expect(guest.mounts.map((m) => m.target)).toEqual(['/mnt/share']);
    expect(guest.text('/etc/motd')).toBe('Welcome to web-1\n');
    expect(guest.files.get('/etc/app/token')).toMatchObject({ mode: 0o600, owner: 'app:app' });
    expect(guest.text('/etc/app/token')).toBe(TOKEN);
    expect(guest.files.has('/etc/app/token.bootplane-new')).toBe(false);

    const events = await kubectlOk(['get', 'events.events.k8s.io', '-n', ns, '-o', 'json']);
    expect(JSON.stringify(status) + events).not.toContain(TOKEN);

    const writes = guestWrites(guest).length;
    expect(writes).toBeGreaterThan(0);
    await anotherPass('web', vmid);
    expect(guestWrites(guest)).toHaveLength(writes);
    expect(await cond('web', 'NfsMounted')).toMatchObject({ status: 'True', reason: 'UpToDate' });
    expect(await cond('web', 'FilesInjected')).toMatchObject({ status: 'True', reason: 'UpToDate' });
  }, 120_000);

  it('edits the fstab line when options change, removes it when the share goes, and rewrites a file when its ConfigMap changes', async () => {
    const vmid = 711;
    const guest = new SimGuest({ packageManager: 'apt', packages: ['nfs-common'], reachableExports: ['nas:/a', 'nas:/b'] });
    addRunningVm(vmid, guest);
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf', namespace: ns }, data: { 'app.conf': 'level=1\n' } });
    const spec = (mounts: unknown[]) => vmDoc('edit', vmid, { guestAgent: {}, nfsMounts: mounts, files: [{ path: '/etc/app.conf', configMapRef: { name: 'conf', key: 'app.conf' } }] });
    await apply(spec([{ server: 'nas', export: '/a', mountPath: '/mnt/a' }, { server: 'nas', export: '/b', mountPath: '/mnt/b', options: 'ro' }]));
    await eventually(async () => (await cond('edit', 'NfsMounted'))?.status === 'True' && (await cond('edit', 'FilesInjected'))?.status === 'True', 'mounted', 60_000, 300);
    expect(guest.mounts.map((m) => m.target)).toEqual(['/mnt/a', '/mnt/b']);
    expect(guest.journal.some((e) => e.startsWith('exec env DEBIAN_FRONTEND=noninteractive apt-get'))).toBe(false); // already installed

    await apply(spec([{ server: 'nas', export: '/a', mountPath: '/mnt/a', options: 'rw,noatime' }, { server: 'nas', export: '/b', mountPath: '/mnt/b', options: 'ro' }]));
    await eventually(async () => guest.text('/etc/fstab')!.includes('nas:/a /mnt/a nfs rw,noatime 0 0'), 'fstab edited', 60_000, 300);
    await eventually(async () => guest.mounts.find((m) => m.target === '/mnt/a')?.options === 'rw,noatime', 'mounted again with the new options', 60_000, 300);
    expect(guest.text('/etc/fstab')!.match(/\/mnt\/a nfs/g)).toHaveLength(1);

    await apply(spec([{ server: 'nas', export: '/b', mountPath: '/mnt/b', options: 'ro' }]));
    await eventually(async () => !guest.text('/etc/fstab')!.includes('/mnt/a'), 'line removed', 60_000, 300);
    await eventually(async () => !guest.mounts.some((m) => m.target === '/mnt/a'), 'unmounted', 30_000, 300);
    expect(guest.text('/etc/fstab')!.match(/# bootplane: /g)).toHaveLength(1);

    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf', namespace: ns }, data: { 'app.conf': 'level=2\n' } });
    await eventually(async () => guest.text('/etc/app.conf') === 'level=2\n', 'file rewritten after the ConfigMap changed', 60_000, 300);

    // Bigger than one file-write call takes (60 KiB of base64): written in parts, joined in the guest.
    const big = Array.from({ length: 4000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n') + '\n';
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf', namespace: ns }, data: { 'app.conf': big } });
    await eventually(async () => guest.text('/etc/app.conf') === big, 'a large file written in parts', 60_000, 300);
    expect(guest.journal.filter((e) => e.startsWith('write /etc/app.conf.bootplane-new.part'))).toHaveLength(Math.ceil(Buffer.byteLength(big) / (45 * 1024)));
    expect([...guest.files.keys()].filter((p) => p.includes('.part'))).toEqual([]);
  }, 180_000);

  it('installs nfs-utils with dnf on a Rocky guest and reports a cloud-init error', async () => {
    const vmid = 712;
    const guest = new SimGuest({
      osRelease: 'NAME="Rocky Linux"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n',
      packageManager: 'dnf', reachableExports: ['nas:/data'],
      cloudInit: { output: "status: error\ndetail:\n('modules-config', ModuleDetails(module=cc_runcmd))\nerrors:\n\t- ('modules-config', 'runcmd failed')\n", exitCode: 1 },
    });
    addRunningVm(vmid, guest);
    await apply(vmDoc('rocky', vmid, { nfsMounts: [{ server: 'nas', export: '/data', mountPath: '/srv/data', options: 'defaults,_netdev' }] }));
    await eventually(async () => (await cond('rocky', 'NfsMounted'))?.status === 'True', 'mounted', 60_000, 300);
    expect(guest.packages.has('nfs-utils')).toBe(true);
    expect(guest.journal).toContain('exec dnf install -y nfs-utils');
    const ci = await cond('rocky', 'CloudInitFinished');
    expect(ci).toMatchObject({ status: 'False', reason: 'Error' });
    expect(ci!.message).toContain('runcmd failed');
    expect((await vmJson('rocky')).status!.guest).toMatchObject({ osRelease: 'Rocky Linux 9.4 (Blue Onyx)', cloudInit: { status: 'error', lastStage: 'modules-config' } });
  }, 120_000);

  it('waits for an agent that starts late, and times out (with what to check) when the VM has no agent', async () => {
    addRunningVm(713, new SimGuest({ agentStartDelayMs: 4_000 }));
    await apply(vmDoc('late', 713, { guestAgent: { timeoutSeconds: 120 } }));
    await eventually(async () => (await cond('late', 'GuestAgentReady'))?.reason === 'Waiting', 'waiting', 30_000, 200);
    await eventually(async () => (await cond('late', 'GuestAgentReady'))?.reason === 'Connected', 'connected once the agent runs', 60_000, 300);

    addRunningVm(714, undefined, false);
    await apply(vmDoc('noagent', 714, { guestAgent: { timeoutSeconds: 5 } }));
    await eventually(async () => (await cond('noagent', 'GuestAgentReady'))?.reason === 'Waiting', 'waiting', 30_000, 200);
    const timedOut = await eventually(async () => {
      const c = await cond('noagent', 'GuestAgentReady');
      return c?.reason === 'Timeout' && c;
    }, 'timeout', 60_000, 500);
    expect(timedOut.status).toBe('False');
    expect(timedOut.message).toContain('did not answer within 5 s');
    expect(timedOut.message).toContain('agent is 1');
    expect(timedOut.message).toContain('No QEMU guest agent configured');
    // agent: 0 is configured but has no channel: PVE's ping times out.
    const off = sim.cluster.addVm({ vmid: 715, running: true, config: { name: 'vm715', agent: '0', scsi0: 'local-lvm:vm-715-disk-0,size=8G' } });
    off.guest = new SimGuest();
    await apply(vmDoc('agentoff', 715, { guestAgent: { timeoutSeconds: 60 } }));
    await eventually(async () => (await cond('agentoff', 'GuestAgentReady'))?.message.includes('QEMU guest agent is not running'), 'agent: 0 reported as not running', 30_000, 200);

    // Not a hot loop: after the timeout the agent is asked about once a minute.
    const before = pings(714);
    await new Promise((r) => setTimeout(r, 5_000));
    expect(pings(714) - before).toBeLessThanOrEqual(1);
  }, 180_000);
});
