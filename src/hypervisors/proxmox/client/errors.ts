// Errors from talking to Proxmox VE. Each has a code (a CamelCase word a condition reason can
// carry) and keeps PVE's own status and message; none ever holds a token, ticket or password.
import { DriverError } from '../../driver.js';

/** PVE answered with an error envelope: HTTP status, reason phrase, message and per-parameter errors. */
export class PveApiError extends DriverError {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly pveMessage: string,
    readonly paramErrors: Record<string, string> | undefined,
  ) {
    super(codeForStatus(status, pveMessage), describe(status, method, path, pveMessage, paramErrors));
  }

  /** A stale config digest: the VM changed since it was read; re-read and re-plan. */
  get isDigestMismatch(): boolean { return this.code === 'DigestMismatch'; }
  get isLocked(): boolean { return this.code === 'VmLocked'; }
  get isNotFound(): boolean { return this.code === 'VmNotFound'; }
}

function codeForStatus(status: number, message: string): string {
  if (status === 401) return 'AuthenticationFailed';
  if (status === 403) return 'PermissionDenied';
  if (status === 400) return 'InvalidRequest';
  if (/checksum mismatch \(file change by other user\?\)/.test(message)) return 'DigestMismatch';
  if (/^VM is locked/.test(message)) return 'VmLocked';
  if (/Configuration file '.*' does not exist/.test(message)) return 'VmNotFound';
  // create: "unable to create VM 100 - VM 100 already exists on node 'pve'"; clone: "…: config file already exists".
  if (/^unable to create VM \d+(:| -) .*already exists/.test(message)) return 'VmExists';
  if (status === 501) return 'NotImplemented';
  if (status >= 502 && status <= 504) return 'Unavailable';
  return 'ProxmoxError';
}

function describe(status: number, method: string, path: string, message: string, errors: Record<string, string> | undefined): string {
  const detail = errors ? ` (${Object.entries(errors).map(([k, v]) => `${k}: ${v.trim()}`).join('; ')})` : '';
  return `Proxmox VE refused ${method} ${path}: ${status} ${message.trim()}${detail}`;
}

/** The connection itself failed: DNS, refused, reset, TLS, timeout. Retrying may help. */
export class PveTransportError extends DriverError {
  constructor(code: 'Unreachable' | 'Timeout' | 'TLSVerificationFailed', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The server's certificate is not the pinned one. Never retried: it needs a person. */
export class TlsFingerprintMismatch extends DriverError {
  constructor(readonly host: string, readonly expected: string, readonly seen: string) {
    super('TLSFingerprintMismatch', `The TLS certificate of ${host} has SHA-256 fingerprint ${seen}, but spec.tls.fingerprintSHA256 pins ${expected}. If the certificate was renewed on purpose, update the pin; otherwise something is intercepting the connection.`);
  }
}

/** A task reported as failed, or a reply that was not what the API promises. */
export class PveProtocolError extends DriverError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ProtocolError', message, options);
  }
}
