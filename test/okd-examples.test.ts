// examples/okd/ as a user would use it: the standalone manifest loader reads it without a
// problem, the real API server admits every object (CRD schemas and CEL rules), and the planner
// answers for each VM as docs/okd.md promises — no cloud-init drive for Fedora CoreOS, the network
// first while the one installer boot is unused, the disk alone once installed — and the boot
// profile renders the FCOS installer with the machine's signed Ignition URL.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BootProfile } from '../src/api/v1alpha1/boot-profile.js';
import type { NodeBootAssignment } from '../src/api/v1alpha1/node-boot-assignment.js';
import { VirtualMachineSpec, type VirtualMachine } from '../src/api/v1alpha1/virtual-machine.js';
import { decideBoot } from '../src/boot/decide.js';
import { desiredMedia, networkBootActive } from '../src/controllers/virtualmachine/status.js';
import { observedVmFromPveConfig } from '../src/hypervisors/proxmox/config.js';
import { planMedia } from '../src/planning/plan-media.js';
import { listManifestFiles, loadManifests } from '../src/store/manifests.js';
import { createNamespace, getJson, kubectl, kubectlOk } from './support/kube.js';
import { ROOT } from './support/paths.js';

const DIR = join(ROOT, 'examples', 'okd');
const loaded = loadManifests(DIR);
const of = <T>(kind: string) => loaded.objects.map((o) => o.object).filter((o) => o.kind === kind) as T[];
const vms = of<VirtualMachine>('VirtualMachine').map((vm) => ({ ...vm, spec: VirtualMachineSpec.parse(vm.spec) }));
const assignments = of<NodeBootAssignment>('NodeBootAssignment');
const profile = of<BootProfile>('BootProfile')[0]!;

/** The VM as `qm create` in docs/okd.md makes it: one SCSI disk, one NIC, no CD-ROM, no cloud-init drive. */
function created(vm: VirtualMachine, index: number) {
  const vmid = vm.spec.proxmox!.vmid;
  return observedVmFromPveConfig({
    name: vm.metadata.name, ostype: 'l26', machine: 'q35', scsihw: 'virtio-scsi-single',
    scsi0: `local-lvm:vm-${vmid}-disk-0,size=120G`, net0: `virtio=BC:24:11:00:70:${String(index).padStart(2, '0')},bridge=vmbr0`, boot: 'order=scsi0',
  }, { power: 'Stopped' });
}

// The examples' namespace, okd, renamed to a fresh one per run (namespaces never finish
// terminating on the test control plane, which runs no namespace controller).
let ns: string;
beforeAll(async () => {
  ns = await createNamespace('okd');
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

function examplesIn(namespace: string): string {
  return listManifestFiles(DIR).sort().map((f) => readFileSync(f, 'utf8'))
    .flatMap((text) => text.split(/^---$/m))
    .filter((doc) => !/^kind: Namespace$/m.test(doc))
    .map((doc) => doc.replace(/namespace: okd\b/g, `namespace: ${namespace}`))
    .join('\n---\n');
}

describe('examples/okd', () => {
  it('loads through the manifest loader with no problem', () => {
    expect(loaded.problems).toEqual([]);
    expect(vms.map((v) => v.metadata.name)).toEqual(['okd-bootstrap', 'okd-cp-0', 'okd-cp-1', 'okd-cp-2', 'okd-worker-0', 'okd-worker-1']);
    expect(assignments).toHaveLength(6);
    expect(of('Secret')).toHaveLength(3);
  });

  it('is admitted by the real API server', async () => {
    await kubectlOk(['apply', '--server-side', '-f', '-'], examplesIn(ns));
    const listed = await getJson<{ items: { metadata: { name: string } }[] }>(['get', 'virtualmachines,nodebootassignments,bootprofiles,secrets', '-n', ns]);
    expect(listed.items).toHaveLength(16);
    const bootstrap = await getJson<VirtualMachine>(['get', 'vm', 'okd-bootstrap', '-n', ns]);
    expect(bootstrap.spec.teardown).toMatchObject({ action: 'Delete', whenReady: { count: 3 } });
    // Fedora CoreOS with a cloud-init drive is refused, as the docs say.
    const refused = await kubectl(['apply', '--dry-run=server', '-f', '-'], JSON.stringify({ ...bootstrap, metadata: { name: 'x', namespace: ns }, spec: { ...bootstrap.spec, cloudInit: { placement: 'auto' } }, status: undefined }));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Fedora CoreOS uses Ignition');
  });

  it.each(vms.map((vm, i) => [vm.metadata.name, vm, i] as const))('plans %s: network first to install, the disk alone once installed, never a cloud-init drive', (name, vm, i) => {
    const observed = created(vm, i);
    const mine = assignments.filter((a) => a.spec.vmRef?.name === name);
    expect(mine).toHaveLength(1);
    const installing = planMedia(observed, desiredMedia(vm, [], networkBootActive(mine)));
    expect(installing.osFamily).toBe('fcos');
    expect(installing.cloudInitSlot).toBeUndefined();
    expect(installing.steps.some((s) => s.op === 'createCloudInit')).toBe(false);
    expect(installing.bootOrder).toEqual(['net0', 'scsi0']);

    // Installed: the boot-once boot is used, afterInstall.bootPreset hd applies.
    const used = mine.map((a) => ({ ...a, status: { bootOnceConsumedEpoch: 0 } }));
    const installedVm: VirtualMachine = { ...vm, status: { install: { state: 'Installed', completedBy: 'diskBoot' } } };
    const installed = planMedia(observed, desiredMedia(installedVm, [], networkBootActive(used)));
    expect(installed.bootOrder).toEqual(['scsi0']);
    expect(installed.cloudInitSlot).toBeUndefined();
  });

  it('renders the FCOS installer with the role\'s signed Ignition URL, and local boot after the one boot', () => {
    const cp = assignments.find((a) => a.metadata.name === 'okd-cp-0')!;
    expect(cp.spec.ignitionSecretRef?.name).toBe('okd-master-ignition');
    const ignitionUrl = 'http://192.0.2.1:8081/ignition?mac=bc2411007001&exp=1&sig=abc';
    const answer = decideBoot(cp, profile, { mac: 'bc:24:11:00:70:01', firmware: 'bios', serverUrl: 'http://192.0.2.1:8081', ignitionUrl });
    expect(answer.kind).toBe('profile');
    const script = (answer as { script: string }).script;
    expect(script).toContain(`coreos.inst.ignition_url=${ignitionUrl}`);
    expect(script).toContain('coreos.inst.install_dev=/dev/sda');
    expect(script).toMatch(/live-rootfs\.x86_64\.img/);
    const later = decideBoot({ ...cp, status: { bootOnceConsumedEpoch: 0 } }, profile, { mac: 'bc:24:11:00:70:01', firmware: 'bios', serverUrl: 'http://192.0.2.1:8081' });
    expect(later.kind).toBe('localBoot');
  });
});
