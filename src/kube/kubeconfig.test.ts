import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KubeconfigError, loadClusterConnection } from './kubeconfig.js';

function kubeconfig(dir: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  const path = join(dir, 'config');
  writeFileSync(path, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'a',
    clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': Buffer.from('CA PEM').toString('base64'), ...cluster } }],
    users: [{ name: 'u', user }, { name: 'other', user: { token: 'other-token' } }],
    contexts: [{ name: 'a', context: { cluster: 'c', user: 'u' } }, { name: 'b', context: { cluster: 'c', user: 'other' } }],
  }));
  return path;
}

describe('loadClusterConnection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));

  it('reads server, CA and a bearer token without loading client-node', async () => {
    const c = await loadClusterConnection({ kubeconfigPath: kubeconfig(dir, { token: 't0k' }) });
    expect(c.server.href).toBe('https://10.0.0.1:6443/');
    expect(c.tls.ca).toBe('CA PEM');
    expect(await c.headers()).toEqual({ authorization: 'Bearer t0k' });
    expect(c.viaClientNode).toBe(false);
  });

  it('honours --context', async () => {
    const c = await loadClusterConnection({ kubeconfigPath: kubeconfig(dir, { token: 't0k' }), context: 'b' });
    expect(await c.headers()).toEqual({ authorization: 'Bearer other-token' });
  });

  it('reads client certificates from files relative to the kubeconfig, and re-reads a token file each time', async () => {
    writeFileSync(join(dir, 'client.crt'), 'CERT');
    writeFileSync(join(dir, 'client.key'), 'KEY');
    writeFileSync(join(dir, 'token'), 'first\n');
    const c = await loadClusterConnection({ kubeconfigPath: kubeconfig(dir, { 'client-certificate': 'client.crt', 'client-key': 'client.key', tokenFile: 'token' }, { 'insecure-skip-tls-verify': true }) });
    expect(c.tls).toMatchObject({ cert: 'CERT', key: 'KEY', rejectUnauthorized: false });
    expect(await c.headers()).toEqual({ authorization: 'Bearer first' });
    writeFileSync(join(dir, 'token'), 'rotated\n');
    expect(await c.headers()).toEqual({ authorization: 'Bearer rotated' });
  });

  it('hands exec-plugin kubeconfigs to client-node', async () => {
    const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } });
    const c = await loadClusterConnection({ kubeconfigPath: kubeconfig(dir, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'echo', args: [credential], interactiveMode: 'Never' } }) });
    expect(c.viaClientNode).toBe(true);
    expect(c.server.host).toBe('10.0.0.1:6443');
    expect(JSON.stringify(await c.headers())).toContain('Bearer from-exec');
  }, 60_000); // loading client-node takes seconds on a busy machine

  it('reads the in-cluster service account, re-reading the rotated token', async () => {
    const sa = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(sa, 'ca.crt'), 'SA CA');
    writeFileSync(join(sa, 'token'), 'sa-1');
    const c = await loadClusterConnection({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443', HOME: '/nonexistent' }, serviceAccountDir: sa });
    expect(c.server.href).toBe('https://[fd00::1]/');
    expect(c.tls.ca).toBe('SA CA');
    writeFileSync(join(sa, 'token'), 'sa-2');
    expect(await c.headers()).toEqual({ authorization: 'Bearer sa-2' });
  });

  it('names the missing context', async () => {
    await expect(loadClusterConnection({ kubeconfigPath: kubeconfig(dir, { token: 'x' }), context: 'nope' })).rejects.toThrow(KubeconfigError);
    await expect(loadClusterConnection({ kubeconfigPath: kubeconfig(dir, { token: 'x' }), context: 'nope' })).rejects.toThrow(/no context nope/);
  });
});
