// `bootplane migrate cloud-init` against the real API server and controller, with VMs on the PVE
// simulator: the dry run lists exactly the misplaced drives and changes nothing; the real run
// moves a stopped Debian VM's drive from IDE to SCSI (the simulator's config is the oracle),
// leaves running VMs and VMs whose drive bootplane does not own, and a move the controller cannot
// make (a running PVE VM) puts the old placement back and fails the command.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/cli/migrate.js';
import type { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import { condition, eventually, getJson, kubectlOk } from './support/kube.js';
import { KUBECONFIG } from './support/paths.js';
import { startProxmoxSite, stopProxmoxSite, type ProxmoxSite } from './support/proxmox.js';

let site: ProxmoxSite;
let sim: PveSimulator;
let ns: string;

const ciKey = (vmid: number) => Object.entries(sim.cluster.vms.get(vmid)!.config).find(([, v]) => /cloudinit/.test(v))?.[0];
const placement = async (name: string) => (await getJson<{ spec: { cloudInit?: { placement?: string } } }>(['get', 'vm', name, '-n', ns])).spec.cloudInit?.placement;

async function run(...args: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await migrate(['cloud-init', '--kubeconfig', KUBECONFIG, '-n', ns, ...args], (s) => { text += s; });
  return { code, text };
}

beforeAll(async () => {
  site = await startProxmoxSite('migrate');
  ({ sim, ns } = site);
  const vm = (vmid: number, name: string, running: boolean) => sim.cluster.addVm({
    vmid, running, config: { name, ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=8G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`, boot: 'order=scsi0' },
  });
  vm(800, 'deb-a', false);
  vm(801, 'deb-b', true);
  vm(802, 'rhel-c', false);
  vm(803, 'deb-d', false);
  const yaml = (name: string, vmid: number, family: string, extra: string, labels: string) => `apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: ${ns}, labels: {${labels}}}
spec:
  hypervisorRef: {name: ${site.hv}}
  proxmox: {node: pve1, vmid: ${vmid}}
  osFamily: ${family}
${extra}`;
  await kubectlOk(['apply', '-f', '-'], [
    yaml('deb-a', 800, 'debian', '  cloudInit: {placement: keep, user: debian}\n', 'team: a'),
    yaml('deb-b', 801, 'debian', '  cloudInit: {placement: keep, user: debian}\n', 'team: b'),
    yaml('rhel-c', 802, 'rhel', '  cloudInit: {placement: keep, user: cloud}\n', 'team: b'),
    yaml('deb-d', 803, 'debian', '', 'team: a'),
  ].join('---\n'));
  for (const name of ['deb-a', 'deb-b', 'rhel-c', 'deb-d']) {
    await eventually(async () => (await condition(`vm/${name}`, 'MediaConfigured', ns))?.status === 'True', `${name} converged`, 60_000, 300);
  }
  await eventually(async () => (await getJson<{ status?: { power?: string } }>(['get', 'vm', 'deb-b', '-n', ns])).status?.power === 'Running', 'deb-b power in status');
});

afterAll(async () => {
  await stopProxmoxSite(site, 'virtualmachines');
});

describe('bootplane migrate cloud-init', () => {
  it('dry run lists the misplaced drives, says what it would do, and changes nothing', async () => {
    const { code, text } = await run('--dry-run');
    expect(code).toBe(0);
    expect(text).toMatch(/deb-a\s+debian\s+Stopped\s+ide2\s+scsi\s+move/);
    expect(text).toMatch(/deb-b .*skip: Running \(stop it, or pass --allow-running\)/);
    expect(text).toMatch(/deb-d .*skip: no spec.cloudInit/);
    expect(text).not.toContain('rhel-c'); // RHEL wants IDE: where it is
    expect(text).toContain('Dry run: 1 to move, 2 left as they are.');
    expect(await placement('deb-a')).toBe('keep');
    expect(ciKey(800)).toBe('ide2');
  });

  it('--selector narrows the list', async () => {
    const { text } = await run('--dry-run', '--selector', 'team=a');
    expect(text).toContain('deb-a');
    expect(text).toContain('deb-d');
    expect(text).not.toContain('deb-b');
  });

  it('moves a stopped VM one at a time and prints what changed', async () => {
    const { code, text } = await run('--timeout', '60');
    expect(code).toBe(0);
    expect(text).toMatch(/moved .*\/deb-a: cloud-init ide2 -> scsi\d+/);
    expect(text).toContain('Summary: 1 moved, 0 not moved (placement restored), 2 skipped.');
    expect(ciKey(800)).toMatch(/^scsi\d+$/);
    expect(sim.cluster.vms.get(800)!.config.ide2).toBeUndefined();
    expect(sim.cluster.vms.get(800)!.config.scsi0).toBe('local-lvm:vm-800-disk-0,size=8G'); // the data disk stays
    expect(await placement('deb-a')).toBe('auto');
    expect(ciKey(801)).toBe('ide2');
    // Nothing left to move among the stopped ones.
    expect((await run('--dry-run')).text).not.toContain('deb-a');
  });

  it('a move the controller cannot make on a running VM is undone and fails the command', async () => {
    const { code, text } = await run('--allow-running', '--selector', 'team=b', '--timeout', '60');
    expect(code).toBe(1);
    expect(text).toMatch(/not moved .*\/deb-b \(cloud-init stays at ide2, placement back to keep\): WaitingForPowerOff/);
    expect(await placement('deb-b')).toBe('keep');
    expect(ciKey(801)).toBe('ide2');
  });
});
