// One place that turns connection settings into a ready client: TLS trust, pool, transport, tree.
import { ProxmoxClient } from './api.js';
import { createPveDispatcher, type TlsTrustOptions } from './tls.js';
import { PveTransport, type PveCredentials } from './transport.js';

export interface ProxmoxConnectionOptions {
  endpoint: string;
  credentials: PveCredentials;
  tls: TlsTrustOptions;
  requestTimeoutMs?: number;
  connections?: number;
  maxConcurrentTasksPerNode?: number;
  maxAttempts?: number;
  retryBaseMs?: number;
  onRequest?: (method: string, path: string) => void;
}

export function createProxmoxClient(options: ProxmoxConnectionOptions): ProxmoxClient {
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const dispatcher = createPveDispatcher(options.tls, {
    connections: options.connections ?? 8,
    connectTimeoutMs: Math.min(requestTimeoutMs, 10_000),
    keepAliveTimeoutMs: 30_000,
  });
  const transport = new PveTransport({
    endpoint: options.endpoint,
    credentials: options.credentials,
    dispatcher,
    requestTimeoutMs,
    maxAttempts: options.maxAttempts,
    retryBaseMs: options.retryBaseMs,
    onRequest: options.onRequest,
  });
  return new ProxmoxClient(transport, { maxConcurrentTasksPerNode: options.maxConcurrentTasksPerNode ?? 4 });
}
