// Installing bootplane the way operators are installed — Helm, kustomize, Argo CD — proven on the
// real control plane, including that the chart's RBAC is enough and no more.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { KINDS } from '../src/api/v1alpha1/kinds.js';
import { ControllerProcess } from './support/controller-process.js';
import { helm } from './support/helm.js';
import { condition, createNamespace, eventually, kubectl, kubectlOk, uniqueName } from './support/kube.js';
import { KUBECONFIG, ROOT } from './support/paths.js';

const CHART = join(ROOT, 'charts', 'bootplane');
const ALL_ON = join(ROOT, 'test', 'testdata', 'packaging', 'values-all-on.yaml');

beforeAll(async () => {
  await kubectlOk(['apply', '--server-side', '-f', join(ROOT, 'test', 'testdata', 'packaging', 'monitoring-crds.yaml')]);
  await kubectlOk(['wait', '--for=condition=Established', 'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com']);
  // The everything-on values grant Secrets in these namespaces.
  await kubectlOk(['apply', '-f', join(ROOT, 'examples', '00-namespaces.yaml')]);
});

describe('Helm chart', () => {
  it('lints', async () => {
    const r = await helm(['lint', CHART, '--strict']);
    expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.code).toBe(0);
  });

  it('renders defaults and everything-on, and the API server accepts both (server-side dry run)', async () => {
    const ns = await createNamespace('chart-dry');
    for (const values of [[], ['-f', ALL_ON]]) {
      const r = await helm(['template', uniqueName('bp'), CHART, '-n', ns, '--kube-version', '1.34.4', '--set', 'crds.enabled=false', ...values]);
      expect(r.code, r.stderr).toBe(0);
      const applied = await kubectl(['apply', '--dry-run=server', '-f', '-'], r.stdout);
      expect(applied.code, applied.stderr).toBe(0);
    }
    const allOn = (await helm(['template', 'bp', CHART, '-n', ns, '--kube-version', '1.34.4', '-f', ALL_ON])).stdout;
    const kinds = parseAllDocuments(allOn).map((d) => (d.toJS() as { kind?: string } | null)?.kind).filter(Boolean);
    for (const kind of ['Deployment', 'DaemonSet', 'ServiceMonitor', 'PrometheusRule', 'NetworkPolicy', 'CustomResourceDefinition']) expect(kinds).toContain(kind);
    expect(allOn).toContain('helm.sh/resource-policy: keep');
    // Placeholders in CRD descriptions reach the cluster as text, not as Helm template actions.
    expect(allOn).toContain('{{name}} placeholders');
    await kubectlOk(['delete', 'namespace', ns, '--wait=false']);
  });

  it('renders a Deployment that meets Pod Security "restricted"', async () => {
    const ns = await createNamespace('chart-psa');
    await kubectlOk(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
    const r = await helm(['template', 'bp', CHART, '-n', ns, '--kube-version', '1.34.4', '--set', 'crds.enabled=false']);
    const deployment = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string }).find((o) => o?.kind === 'Deployment');
    // A bare Pod from the template is admitted (or refused) by the Pod Security admission plugin at once.
    const podSpec = (deployment as unknown as { spec: { template: { spec: { serviceAccountName: string } } } }).spec.template.spec;
    await kubectlOk(['create', 'serviceaccount', podSpec.serviceAccountName, '-n', ns]); // this test cluster runs no controller-manager
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'psa-check', namespace: ns }, spec: podSpec };
    const applied = await kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
    expect(applied.stderr).not.toContain('violates PodSecurity');
    expect(applied.code, applied.stderr).toBe(0);
    await kubectlOk(['delete', 'namespace', ns, '--wait=false']);
  });

  it('rejects a typo in values', async () => {
    const r = await helm(['template', 'bp', CHART, '--kube-version', '1.34.4', '--set', 'bootServer.servce.type=NodePort']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("additional properties 'servce' not allowed");
  });

  it('keeps values.yaml documented: a comment above every key', () => {
    const lines = readFileSync(join(CHART, 'values.yaml'), 'utf8').split('\n');
    const undocumented: string[] = [];
    lines.forEach((line, i) => {
      // Kubernetes resource quantities under `resources:` explain themselves.
      if (!/^\s*[A-Za-z][\w]*:/.test(line) || /^\s*(requests|limits|cpu|memory):/.test(line)) return;
      let j = i - 1;
      while (j >= 0 && /^\s*$/.test(lines[j]!)) j--;
      if (!(lines[j] ?? '').trim().startsWith('#')) undocumented.push(line.trim());
    });
    expect(undocumented).toEqual([]);
  });
});

describe('Helm install and least-privilege RBAC', () => {
  const release = uniqueName('bp');
  const serviceAccount = `${release}-bootplane`;
  let ns: string;
  let granted: string;
  let controller: ControllerProcess | undefined;

  beforeAll(async () => {
    ns = await createNamespace('chart');
    granted = uniqueName('pve-token');
    const r = await helm(['install', release, CHART, '-n', ns, '--set', 'crds.enabled=false', '--set', `rbac.secrets[0].namespace=${ns}`, '--set', `rbac.secrets[0].name=${granted}`, '--wait=false']);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    await controller?.kill('SIGTERM');
    await helm(['uninstall', release, '-n', ns]);
    await kubectl(['delete', 'namespace', ns, '--wait=false']);
  });

  it('installs, prints what to do next, and grants exactly what the controller needs', async () => {
    const status = await helm(['status', release, '-n', ns]);
    expect(status.stdout).toContain('kubectl get bootplane -A');
    const sa = `system:serviceaccount:${ns}:${serviceAccount}`;
    const can = async (...args: string[]) => (await kubectl(['auth', 'can-i', ...args, '--as', sa])).stdout.trim();
    expect(await can('list', 'virtualmachines.bootplane.io', '-A')).toBe('yes');
    expect(await can('patch', 'virtualmachines.bootplane.io/status', '-n', 'default')).toBe('yes');
    expect(await can('update', 'virtualmachines.bootplane.io', '-n', 'default')).toBe('no'); // never spec
    expect(await can('create', 'events.events.k8s.io', '-n', 'default')).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io', '-n', ns)).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io', '-n', 'default')).toBe('no');
    expect(await can('get', `secrets/${granted}`, '-n', ns)).toBe('yes');
    expect(await can('get', 'secrets/anything-else', '-n', ns)).toBe('no');
    expect(await can('list', 'secrets', '-n', ns)).toBe('no');
  });

  it('runs the controller as the chart\'s ServiceAccount: it reconciles what it may read and is refused the rest', async () => {
    const token = (await kubectlOk(['create', 'token', serviceAccount, '-n', ns, '--duration=1h'])).trim();
    const admin = parse(readFileSync(KUBECONFIG, 'utf8')) as { clusters: unknown[] };
    const dir = mkdtempSync(join(tmpdir(), 'bp-sa-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', clusters: admin.clusters,
      users: [{ name: 'sa', user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: 'bootplane-test', user: 'sa' } }],
      'current-context': 'sa',
    }));
    controller = new ControllerProcess(uniqueName('sa'), { 'lease-namespace': ns }, kubeconfig);
    await eventually(async () => controller!.has((l) => l.msg === 'controller started'), 'controller started as the ServiceAccount', 60_000);

    const forbidden = uniqueName('not-granted');
    await kubectlOk(['create', 'secret', 'generic', granted, '-n', ns, '--from-literal=tokenId=a', '--from-literal=tokenSecret=b']);
    await kubectlOk(['create', 'secret', 'generic', forbidden, '-n', ns, '--from-literal=tokenId=a', '--from-literal=tokenSecret=b']);
    const ok = uniqueName('hv-ok');
    const refused = uniqueName('hv-refused');
    const hv = (name: string, secret: string) => `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${name}}\nspec:\n  type: proxmox\n  proxmox: {endpoint: "https://pve.invalid:8006"}\n  credentialsSecretRef: {name: ${secret}, namespace: ${ns}}\n`;
    await kubectlOk(['apply', '-f', '-'], hv(ok, granted) + '---\n' + hv(refused, forbidden));
    await eventually(async () => (await condition(`hv/${ok}`, 'CredentialsResolved'))?.status === 'True', 'granted Secret read', 40_000);
    const c = await eventually(async () => {
      const found = await condition(`hv/${refused}`, 'CredentialsResolved');
      return found?.reason === 'SecretUnreadable' && found;
    }, 'refused Secret reported', 40_000);
    expect(c.message).toContain('forbidden');
    expect(await kubectlOk(['get', 'hv', ok, '-o', 'jsonpath={.metadata.finalizers}'])).toContain('bootplane.io/finalizer');
    await kubectlOk(['delete', 'hv', ok, refused, '--timeout=30s']);
  });
});

describe('kustomize', () => {
  it('builds the base and both overlays, and the API server accepts them server-side', async () => {
    for (const dir of ['base', 'overlays/kind', 'overlays/production']) {
      const built = await kubectlOk(['kustomize', join(ROOT, 'deploy', dir)]);
      const docs = parseAllDocuments(built).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
      expect(docs.filter((d) => d.kind === 'CustomResourceDefinition')).toHaveLength(KINDS.length);
      const applied = await kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'], built);
      expect(applied.code, `${dir}: ${applied.stderr}`).toBe(0);
      if (dir === 'overlays/production') {
        const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as { spec: { replicas: number } };
        expect(deployment.spec.replicas).toBe(2);
        expect(docs.map((d) => d.kind)).toContain('ServiceMonitor');
      }
    }
  });

  it('ships the same RBAC rules as the chart', async () => {
    const chart = (await helm(['template', 'bp', CHART, '--kube-version', '1.34.4'])).stdout;
    const rulesOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as { kind: string; metadata: { name: string }; rules?: { resources: string[]; verbs: string[] }[] })
      .filter((d) => d?.kind === 'ClusterRole' && d.metadata.name.endsWith('-controller'))
      .flatMap((d) => d.rules!.flatMap((r) => r.resources.flatMap((res) => r.verbs.map((v) => `${res}:${v}`))))
      .sort();
    const base = await kubectlOk(['kustomize', join(ROOT, 'deploy', 'base')]);
    expect(rulesOf(base)).toEqual(rulesOf(chart));
  });
});

describe('GitOps', () => {
  it('shows no change when the same manifests are applied again after the controller wrote status', async () => {
    const ns = await createNamespace('gitops');
    const hv = uniqueName('gitops');
    const manifest = `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system"}}\n---\napiVersion: bootplane.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: web, namespace: ${ns}}\nspec: {hypervisorRef: {name: ${hv}}, libvirt: {domainName: web}, bootOrder: {preset: hd}}\n`;
    await kubectlOk(['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], manifest);
    const controller = new ControllerProcess(uniqueName('gitops'), { 'leader-elect': 'false' });
    try {
      await eventually(async () => (await condition(`hv/${hv}`, 'Ready')) !== undefined, 'status written by the controller', 60_000);
      const diff = await kubectl(['diff', '--server-side', '--field-manager=argocd-controller', '-f', '-'], manifest);
      expect(diff.stdout).toBe('');
      expect(diff.code).toBe(0);
      const again = await kubectlOk(['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], manifest);
      expect(again).toContain('serverside-applied');
      await kubectlOk(['delete', '-f', '-', '--timeout=30s'], manifest);
    } finally {
      await controller.kill('SIGTERM');
    }
    await kubectl(['delete', 'namespace', ns, '--wait=false']);
  });
});

describe('Argo CD health checks', () => {
  const script = readFileSync(join(ROOT, 'docs', 'argocd', 'health.lua'), 'utf8');
  const toLua = (v: unknown): string => {
    if (v === null || v === undefined) return 'nil';
    if (Array.isArray(v)) return `{${v.map(toLua).join(',')}}`;
    if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `[${JSON.stringify(k)}]=${toLua(x)}`).join(',')}}`;
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  };
  const health = (obj: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'bp-lua-'));
    const file = join(dir, 'check.lua');
    writeFileSync(file, `obj = ${toLua(obj)}\nlocal hs = (function()\n${script}\nend)()\nprint(hs.status .. "|" .. hs.message)\n`);
    const [status, message] = execFileSync('lua5.4', [file], { encoding: 'utf8' }).trim().split('|');
    return { status, message };
  };
  const ready = (status: string, reason: string, message = 'm') => ({ type: 'Ready', status, reason, message, lastTransitionTime: 'x' });
  const vm = (status: unknown, generation = 1) => ({ kind: 'VirtualMachine', metadata: { name: 'vm', generation }, status });

  it.each([
    ['no status yet', vm(undefined), 'Progressing'],
    ['stale observedGeneration', vm({ observedGeneration: 1, conditions: [ready('True', 'Converged')] }, 2), 'Progressing'],
    ['Ready', vm({ observedGeneration: 1, conditions: [ready('True', 'Converged')] }), 'Healthy'],
    ['installing', vm({ observedGeneration: 1, conditions: [ready('False', 'Installing')] }), 'Progressing'],
    ['failed', vm({ observedGeneration: 1, conditions: [ready('False', 'InstallationFailed', 'timed out after 3600 s')] }), 'Degraded'],
    ['unknown', vm({ observedGeneration: 1, conditions: [ready('Unknown', 'DriverNotAvailable')] }), 'Progressing'],
    ['stopped session', { kind: 'DisklessSession', metadata: { generation: 1 }, status: { observedGeneration: 1, phase: 'Stopped' } }, 'Suspended'],
  ])('%s → %s', (_name, obj, expected) => {
    expect(health(obj).status).toBe(expected);
  });

  it('explains a Degraded object with its condition', () => {
    expect(health(vm({ observedGeneration: 1, conditions: [ready('False', 'SecretNotFound', 'Secret a/b does not exist')] })).message).toBe('SecretNotFound: Secret a/b does not exist');
  });

  it('is pasted into the argocd-cm snippet for every kind, unchanged', () => {
    const cm = parse(readFileSync(join(ROOT, 'docs', 'argocd', 'argocd-cm.yaml'), 'utf8')) as { data: Record<string, string> };
    for (const kind of KINDS) expect(cm.data[`resource.customizations.health.bootplane.io_${kind.kind}`]).toBe(script);
  });
});
