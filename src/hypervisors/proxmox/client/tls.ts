// The connection pool to one PVE endpoint and how its certificate is trusted: a CA bundle (the
// cluster's pve-root-ca.pem), a pinned SHA-256 fingerprint, or - only when the spec says so -
// nothing at all. Node checks CA and hostname itself; a pin is checked here on the peer
// certificate of every new connection, because PVE node certificates are usually self-signed and
// a pin is how its own GUI trusts them.
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { TlsFingerprintMismatch } from './errors.js';

export interface TlsTrustOptions {
  /** PEM bundle the server certificate must chain to. Without it, the system roots apply. */
  ca?: string;
  /** AA:BB:... (32 bytes): only this certificate is accepted; chain and hostname are not checked. */
  fingerprintSHA256?: string;
  insecureSkipVerify?: boolean;
}

export interface PoolOptions {
  connections: number;
  connectTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export function normaliseFingerprint(value: string): string {
  return value.replace(/[^0-9a-fA-F]/g, '').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

export function createPveDispatcher(trust: TlsTrustOptions, pool: PoolOptions): Agent {
  const pinned = trust.fingerprintSHA256 ? normaliseFingerprint(trust.fingerprintSHA256) : undefined;
  const base = buildConnector({
    ca: pinned ? undefined : trust.ca,
    // A pin replaces chain verification; skipping is only ever what the spec asked for.
    rejectUnauthorized: !(pinned || trust.insecureSkipVerify),
    timeout: pool.connectTimeoutMs,
    // Resumed sessions may not present the certificate again; a pin needs it on every connection.
    maxCachedSessions: pinned ? 0 : 100,
    keepAlive: true,
  });
  const connect: buildConnector.connector = pinned
    ? (options, callback) => base(options, (err, socket) => {
      if (err || !socket) return callback(err ?? new Error('no socket'), null);
      const seen = normaliseFingerprint((socket as TLSSocket).getPeerCertificate?.().fingerprint256 ?? '');
      if (seen !== pinned) {
        socket.destroy();
        return callback(new TlsFingerprintMismatch(`${options.hostname}:${options.port}`, pinned, seen || '(no certificate)'), null);
      }
      callback(null, socket);
    })
    : base;
  return new Agent({
    connections: pool.connections,
    keepAliveTimeout: pool.keepAliveTimeoutMs,
    pipelining: 1,
    connect,
  });
}
