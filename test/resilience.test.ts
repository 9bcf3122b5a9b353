// The controller survives kube-apiserver going away for 10 s: it reconnects, relists, and
// reconciles changes made while its watches were broken. Nothing is lost.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControllerProcess } from './support/controller-process.js';
import { condition, createNamespace, eventually, kubectl, kubectlOk, uniqueName } from './support/kube.js';
import { ROOT } from './support/paths.js';

let controller: ControllerProcess;
let ns: string;

beforeAll(async () => {
  ns = await createNamespace('resilience');
  controller = new ControllerProcess(uniqueName('replica'), { 'leader-elect': 'false' });
  await eventually(async () => controller.has((l) => l.msg === 'controller started'), 'controller started', 60_000);
});

afterAll(async () => {
  await controller?.kill('SIGTERM');
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

describe('kube-apiserver restart', () => {
  it('reconnects, relists and reconciles a change made after the outage', async () => {
    const hv = uniqueName('outage');
    const secret = uniqueName('cred');
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec:\n  type: proxmox\n  proxmox: {endpoint: "https://pve.invalid:8006"}\n  credentialsSecretRef: {name: ${secret}, namespace: ${ns}}\n`);
    await eventually(async () => (await condition(`hv/${hv}`, 'CredentialsResolved'))?.reason === 'SecretNotFound', 'SecretNotFound before the outage');

    const errorsBefore = controller.lines.filter((l) => l.msg === 'list/watch failed; retrying').length;
    // Asynchronously, so this process keeps reading the controller's log meanwhile.
    await promisify(execFile)(join(ROOT, 'hack', 'control-plane.sh'), ['restart-apiserver', '10']);
    expect(controller.lines.filter((l) => l.msg === 'list/watch failed; retrying').length).toBeGreaterThan(errorsBefore);

    // Changes made the moment the API server is back, before the controller's backoff ends.
    const second = uniqueName('after');
    await kubectlOk(['create', 'secret', 'generic', secret, '-n', ns, '--from-literal=tokenId=a', '--from-literal=tokenSecret=b']);
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${second}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system"}}\n`);

    await eventually(async () => (await condition(`hv/${hv}`, 'CredentialsResolved'))?.status === 'True', 'Secret created after the outage picked up', 60_000);
    await eventually(async () => (await condition(`hv/${second}`, 'CredentialsResolved'))?.status === 'True', 'Hypervisor created after the outage reconciled', 60_000);
    await kubectlOk(['delete', 'hv', hv, second, '--timeout=30s']);
  });
});
