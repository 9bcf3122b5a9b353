// The Hypervisor controller against the real API server: credentials resolved from a watched
// Secret (rotation picked up without restart), conditions and Events, and a finalizer that
// holds deletion while VMs reference the Hypervisor unless the escape hatch is used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../src/config/config.js';
import { runController, type RunningController } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { condition, createNamespace, eventually, getJson, kubectl, kubectlOk, uniqueName } from './support/kube.js';
import { KUBECONFIG } from './support/paths.js';

let controller: RunningController;
let ns: string;

beforeAll(async () => {
  ns = await createNamespace('hv');
  controller = await runController(parseControllerConfig({ kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', bootAddr: ':0', consoleAddr: ':0' }), silentLogger());
});

afterAll(async () => {
  await controller?.stop();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

const proxmoxHv = (name: string, secret: string) => `apiVersion: bootplane.io/v1alpha1
kind: Hypervisor
metadata: {name: ${name}}
spec:
  type: proxmox
  proxmox: {endpoint: "https://pve.invalid:8006"}
  credentialsSecretRef: {name: ${secret}, namespace: ${ns}}
  tls: {insecureSkipVerify: true}
`;

describe('Hypervisor controller', () => {
  it('reports a missing Secret, then picks up the Secret and its rotation without restart', async () => {
    const hv = uniqueName('pve');
    const secret = uniqueName('token');
    await kubectlOk(['apply', '-f', '-'], proxmoxHv(hv, secret));

    const missing = await eventually(async () => {
      const c = await condition(`hv/${hv}`, 'CredentialsResolved');
      return c?.reason === 'SecretNotFound' && c;
    }, 'SecretNotFound');
    expect(missing.message).toContain(`Secret ${ns}/${secret} does not exist`);
    expect((await condition(`hv/${hv}`, 'Ready'))?.status).toBe('False');
    expect(await kubectlOk(['get', 'hv', hv, '-o', 'jsonpath={.metadata.finalizers}'])).toContain('bootplane.io/finalizer');
    expect((await condition(`hv/${hv}`, 'InsecureTLS'))?.status).toBe('True');

    await kubectlOk(['create', 'secret', 'generic', secret, '-n', ns, '--from-literal=tokenId=root@pam!bp']);
    const partial = await eventually(async () => {
      const c = await condition(`hv/${hv}`, 'CredentialsResolved');
      return c?.reason === 'MissingKeys' && c;
    }, 'MissingKeys');
    expect(partial.message).toBe(`Secret ${ns}/${secret} lacks key(s) tokenSecret.`);

    const secretValue = 'not-a-real-token-value-4711';
    await kubectlOk(['create', 'secret', 'generic', secret, '-n', ns, '--from-literal=tokenId=root@pam!bp', `--from-literal=tokenSecret=${secretValue}`, '--dry-run=client', '-o', 'yaml'])
      .then((yaml) => kubectlOk(['apply', '-f', '-'], yaml));
    await eventually(async () => (await condition(`hv/${hv}`, 'CredentialsResolved'))?.status === 'True', 'credentials resolved after rotation');

    // The Events tell the story, and no secret value reaches status or Events.
    const events = await kubectlOk(['get', 'events.events.k8s.io', '-n', 'default', '--field-selector', `regarding.name=${hv}`, '-o', 'json']);
    expect(events).toContain('SecretNotFound');
    expect(events).toContain('MissingKeys');
    expect(events).not.toContain(secretValue);
    expect(JSON.stringify(await getJson(['get', 'hv', hv]))).not.toContain(secretValue);

    await kubectlOk(['delete', 'hv', hv, '--timeout=30s']);
  });

  it('writes no status when nothing changed', async () => {
    const hv = uniqueName('steady');
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system"}}\n`);
    await eventually(async () => (await condition(`hv/${hv}`, 'CredentialsResolved'))?.status === 'True', 'status written');
    const before = await kubectlOk(['get', 'hv', hv, '-o', 'jsonpath={.metadata.resourceVersion}']);
    // An unrelated metadata change makes the controller look again; status must not be rewritten.
    await kubectlOk(['label', 'hv', hv, 'touched=yes']);
    const afterLabel = await kubectlOk(['get', 'hv', hv, '-o', 'jsonpath={.metadata.resourceVersion}']);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await kubectlOk(['get', 'hv', hv, '-o', 'jsonpath={.metadata.resourceVersion}'])).toBe(afterLabel);
    expect(afterLabel).not.toBe(before);
    await kubectlOk(['delete', 'hv', hv, '--timeout=30s']);
  });

  it('holds deletion while a VirtualMachine references it, and lets go when the VM is gone', async () => {
    const hv = uniqueName('busy');
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system"}}\n`);
    await kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: web}\nspec: {hypervisorRef: {name: ${hv}}, libvirt: {domainName: web}}\n`);
    await eventually(async () => (await kubectlOk(['get', 'hv', hv, '-o', 'jsonpath={.metadata.finalizers}'])).includes('bootplane.io/finalizer'), 'finalizer');
    await kubectlOk(['delete', 'hv', hv, '--wait=false']);
    const blocked = await eventually(async () => {
      const c = await condition(`hv/${hv}`, 'Ready');
      return c?.reason === 'DeletionBlocked' && c;
    }, 'DeletionBlocked');
    expect(blocked.message).toContain(`${ns}/web`);
    expect(blocked.message).toContain('bootplane.io/force-delete=true');
    await kubectlOk(['delete', 'vm', 'web', '-n', ns]);
    await eventually(async () => (await kubectl(['get', 'hv', hv])).code !== 0, 'hypervisor deleted after its VM');
  });

  it('lets the force-delete annotation remove a Hypervisor that VMs still reference', async () => {
    const hv = uniqueName('forced');
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system"}}\n`);
    await kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: orphan}\nspec: {hypervisorRef: {name: ${hv}}, libvirt: {domainName: orphan}}\n`);
    await eventually(async () => (await kubectlOk(['get', 'hv', hv, '-o', 'jsonpath={.metadata.finalizers}'])).includes('bootplane.io/finalizer'), 'finalizer');
    await kubectlOk(['delete', 'hv', hv, '--wait=false']);
    await eventually(async () => (await condition(`hv/${hv}`, 'Ready'))?.reason === 'DeletionBlocked', 'DeletionBlocked');
    await kubectlOk(['annotate', 'hv', hv, 'bootplane.io/force-delete=true']);
    await eventually(async () => (await kubectl(['get', 'hv', hv])).code !== 0, 'force-deleted hypervisor gone');
    const events = await kubectlOk(['get', 'events.events.k8s.io', '-n', 'default', '--field-selector', `regarding.name=${hv}`]);
    expect(events).toContain('ForceDeleted');
  });
});
