// Where the API server is and how to authenticate to it, read the way kubectl and client-go
// read it: --kubeconfig, else $KUBECONFIG, else ~/.kube/config, else the in-cluster service
// account. The common cases (token, token file, client certificate, CA, in-cluster) are read here
// directly; kubeconfigs that need an exec plugin or an auth provider (cloud logins), or that merge
// several files, are handed to @kubernetes/client-node, loaded only then: loading it costs a
// process about 90 MiB of RSS, more than a controller caching 10,000 objects.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

export interface ClusterTls {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface ClusterConnection {
  server: URL;
  tls: ClusterTls;
  /** Authentication headers, read afresh on each call: token files rotate, exec credentials expire. */
  headers(): Promise<Record<string, string>>;
  /** Whether @kubernetes/client-node had to be loaded for this kubeconfig. */
  readonly viaClientNode: boolean;
}

export class KubeconfigError extends Error {
  readonly code = 'KubeconfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadOptions {
  kubeconfigPath?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
  serviceAccountDir?: string;
}

export async function loadClusterConnection(options: LoadOptions = {}): Promise<ClusterConnection> {
  const env = options.env ?? process.env;
  let path = options.kubeconfigPath;
  if (!path && env.KUBECONFIG) {
    const paths = env.KUBECONFIG.split(':').filter(Boolean);
    if (paths.length > 1) return viaClientNode(options);
    path = paths[0];
  }
  const home = env.HOME ?? homedir();
  if (!path && existsSync(join(home, '.kube', 'config'))) path = join(home, '.kube', 'config');
  if (path) return fromKubeconfig(path, options);
  return inCluster(env, options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
}

interface Named<T> { name: string; [key: string]: unknown; cluster?: T; user?: T; context?: T }
interface KubeconfigFile {
  'current-context'?: string;
  clusters?: Named<Record<string, unknown>>[];
  users?: Named<Record<string, unknown>>[];
  contexts?: Named<{ cluster?: string; user?: string }>[];
}

async function fromKubeconfig(path: string, options: LoadOptions): Promise<ClusterConnection> {
  let file: KubeconfigFile;
  try {
    file = (parse(readFileSync(path, 'utf8')) ?? {}) as KubeconfigFile;
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${path} could not be read: ${(err as Error).message}`, { cause: err });
  }
  const contextName = options.context ?? file['current-context'];
  if (!contextName) throw new KubeconfigError(`kubeconfig ${path} has no current-context: pass --context`);
  const context = file.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new KubeconfigError(`kubeconfig ${path} has no context ${contextName}`);
  const cluster = file.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new KubeconfigError(`kubeconfig ${path}: context ${contextName} names cluster ${String(context.cluster)}, which is missing or has no server`);
  const user = (file.users?.find((u) => u.name === context.user)?.user ?? {}) as Record<string, unknown>;
  if (user.exec || user['auth-provider'] || cluster['proxy-url']) return viaClientNode(options);

  const base = dirname(path);
  const material = (dataKey: string, fileKey: string, of: Record<string, unknown>): string | undefined => {
    if (typeof of[dataKey] === 'string') return Buffer.from(of[dataKey], 'base64').toString('utf8');
    if (typeof of[fileKey] === 'string') return readFileSync(isAbsolute(of[fileKey]) ? of[fileKey] : join(base, of[fileKey]), 'utf8');
    return undefined;
  };
  const tls: ClusterTls = {};
  const ca = material('certificate-authority-data', 'certificate-authority', cluster);
  if (ca) tls.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  if (typeof cluster['tls-server-name'] === 'string') tls.servername = cluster['tls-server-name'];
  const cert = material('client-certificate-data', 'client-certificate', user);
  const key = material('client-key-data', 'client-key', user);
  if (cert) tls.cert = cert;
  if (key) tls.key = key;

  const tokenFile = typeof user.tokenFile === 'string' ? (isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile)) : undefined;
  const headers = async (): Promise<Record<string, string>> => {
    if (typeof user.token === 'string') return { authorization: `Bearer ${user.token}` };
    if (tokenFile) return { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` };
    if (typeof user.username === 'string' && typeof user.password === 'string') {
      return { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` };
    }
    return {};
  };
  return { server: new URL(cluster.server), tls, headers, viaClientNode: false };
}

function inCluster(env: NodeJS.ProcessEnv, dir: string): ClusterConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new KubeconfigError('no kubeconfig found (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not running in a cluster (KUBERNETES_SERVICE_HOST unset)');
  const tokenPath = join(dir, 'token');
  let ca: string;
  try {
    ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  } catch (err) {
    throw new KubeconfigError(`in-cluster: cannot read the service account CA at ${join(dir, 'ca.crt')}`, { cause: err });
  }
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    tls: { ca },
    // The kubelet rotates projected service-account tokens: read the file each time.
    headers: async () => ({ authorization: `Bearer ${readFileSync(tokenPath, 'utf8').trim()}` }),
    viaClientNode: false,
  };
}

async function viaClientNode(options: LoadOptions): Promise<ClusterConnection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  if (options.kubeconfigPath) config.loadFromFile(options.kubeconfigPath);
  else config.loadFromDefault();
  if (options.context) config.setCurrentContext(options.context);
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new KubeconfigError('kubeconfig has no current cluster: set a context or run in a cluster');
  const tls: Record<string, unknown> = {};
  await config.applyToHTTPSOptions(tls as never);
  return {
    server: new URL(cluster.server),
    tls: {
      ca: tls.ca as string | undefined,
      cert: tls.cert as string | undefined,
      key: tls.key as string | undefined,
      rejectUnauthorized: tls.rejectUnauthorized as boolean | undefined,
      servername: tls.servername as string | undefined,
    },
    async headers() {
      const opts: { headers?: Record<string, string> } = { headers: {} };
      await config.applyToHTTPSOptions(opts as never);
      return { ...(opts.headers ?? {}) };
    },
    viaClientNode: true,
  };
}
