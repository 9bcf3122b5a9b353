// Builds the boot server from configuration: guard rails, URL signer, asset cache, the boot
// recorder, and the listening socket. main.ts calls this in every replica.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { ControllerConfig } from '../config/config.js';
import { splitAddress } from '../config/config.js';
import { errorMessage } from '../kube/errors.js';
import type { KubeObject } from '../kube/object.js';
import type { ObjectSource } from '../kube/source.js';
import type { ResourceStore } from '../store/store.js';
import { AssetCache } from './assets.js';
import { BootRecorder } from './boot-recorder.js';
import { CidrAllowlist, ClientRateLimiter, ConcurrencyCap } from './guard.js';
import { BootServer, type NetworkConfigRenderer } from './server.js';
import { defaultDhcpSettings, isDhcpVendor, renderDhcpConfig } from './dhcp/render.js';
import { buildChainScript } from './scripts.js';
import { UrlSigner } from './signed-url.js';
import { TftpServer } from './tftp.js';

export interface RunningBootServer {
  server: BootServer;
  recorder: BootRecorder;
  http: Server | undefined;
  /** Starts watching the Secrets an assignment serves, so /ignition never waits on the API. */
  warm(assignment: KubeObject): void;
  stop(): Promise<void>;
}

export function signingKey(file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  const raw = readFileSync(file, 'utf8').trim();
  const key = /^[0-9a-fA-F]{64,}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length < 32) throw new Error(`the boot URL signing key in ${file} must hold at least 32 bytes (hex or base64)`);
  return key;
}

/** /api/v1/boot/network-config: TFTP next-server on the boot server's own host. */
export const dhcpNetworkConfig: NetworkConfigRenderer = (vendor, assignments, serverUrl) =>
  isDhcpVendor(vendor) ? renderDhcpConfig(vendor, defaultDhcpSettings(serverUrl), assignments) : undefined;

/**
 * Starts the boot server over synced caches. It starts watching the Secrets every assignment
 * serves (Ignition, cloud-config) now and as assignments come and change, so /ignition never
 * waits on the API server.
 */
export async function startBootServer(config: ControllerConfig, store: ResourceStore, log: Logger, assignments: ObjectSource, networkConfig: NetworkConfigRenderer = dhcpNetworkConfig): Promise<RunningBootServer> {
  const bootLog = log.child({ component: 'boot' });
  const recorder = new BootRecorder(store, bootLog, config.bootStatusFlushMs);
  const server = new BootServer({
    store,
    log: bootLog,
    recorder,
    signer: new UrlSigner(signingKey(config.bootSigningKeyFile), config.bootSignedUrlTtlSeconds),
    assets: new AssetCache({ directory: config.bootAssetCacheDir, maxBytes: config.bootAssetCacheMaxMib * 1024 * 1024 }),
    assetDirectory: config.bootAssetDir,
    advertiseUrl: config.bootAdvertiseUrl,
    fallback: config.bootFallback,
    allowlist: new CidrAllowlist(config.bootAllowCidrs.split(',').map((c) => c.trim()).filter(Boolean)),
    rateLimiter: new ClientRateLimiter(config.bootRateLimitPerSecond, config.bootRateLimitBurst),
    concurrency: new ConcurrencyCap(config.bootMaxConcurrent),
    networkConfig,
  });
  const { host, port } = splitAddress(config.bootAddr);
  const http = port > 0 ? await server.listen(port, host) : undefined;
  recorder.start();
  if (http) bootLog.info({ addr: `${host}:${port}` }, 'boot server listening');
  const tftp = config.tftpAddr ? await startTftp(config, bootLog) : undefined;
  function warm(assignment: KubeObject): void {
    const spec = assignment.spec as { ignitionSecretRef?: { name: string }; cloudConfigSecretRef?: { name: string } } | undefined;
    for (const ref of [spec?.ignitionSecretRef, spec?.cloudConfigSecretRef]) {
      if (!ref) continue;
      store.getSecret(assignment.metadata.namespace ?? 'default', ref.name)
        .catch((err: unknown) => bootLog.warn({ secret: ref.name, namespace: assignment.metadata.namespace, err: errorMessage(err) }, 'watching a configuration Secret failed'));
    }
  }
  assignments.on((event, obj) => { if (event === 'add' || event === 'update') warm(obj); });
  for (const a of assignments.cache.list()) warm(a);
  return {
    server,
    recorder,
    http,
    warm,
    async stop() {
      if (http) await new Promise((resolve) => http.close(resolve));
      await tftp?.close();
      await recorder.stop();
    },
  };
}

/** TFTP is off unless --tftp-addr is set; its chain script needs to know the HTTP server's URL. */
async function startTftp(config: ControllerConfig, log: Logger): Promise<TftpServer> {
  const { host, port } = splitAddress(config.tftpAddr!);
  const boot = splitAddress(config.bootAddr);
  const httpUrl = config.bootAdvertiseUrl ?? (boot.host !== '0.0.0.0' ? `http://${boot.host}:${boot.port}` : host !== '0.0.0.0' ? `http://${host}:${boot.port}` : undefined);
  if (!httpUrl) log.warn('TFTP serves iPXE binaries only: set --boot-advertise-url (or bind to one address) so boot.ipxe can chain to the HTTP server');
  const tftp = new TftpServer({ directory: config.tftpDir, chainScript: httpUrl ? buildChainScript(httpUrl) : undefined, log });
  const bound = await tftp.listen(port, host);
  log.info({ addr: `${host}:${bound}`, directory: config.tftpDir }, 'TFTP server listening');
  return tftp;
}
