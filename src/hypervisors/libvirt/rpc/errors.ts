// Errors of the libvirt client. LibvirtError carries libvirt's own error number (virErrorNumber)
// and message as the daemon sent them; the other codes are ours (transport and protocol).
import { ErrorCode } from './protocol.js';

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(ErrorCode).map(([k, v]) => [v, k]));

export class LibvirtError extends Error {
  /** Stable CamelCase code for conditions: Libvirt<NAME> for daemon errors, ours otherwise. */
  readonly code: string;
  constructor(
    code: string,
    message: string,
    readonly libvirtCode?: number,
    readonly libvirtDomain?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
  }

  /** An error the daemon returned for a call. */
  static fromRemote(procedure: string, e: { code: number; domain: number; message?: string }): LibvirtError {
    const name = NAMES[e.code];
    const code = name ? `Libvirt${name.split('_').map((p) => p[0] + p.slice(1).toLowerCase()).join('')}` : 'LibvirtError';
    return new LibvirtError(code, `${procedure}: ${e.message ?? `libvirt error ${e.code}`} (libvirt error ${e.code})`, e.code, e.domain);
  }

  is(libvirtCode: number): boolean {
    return this.libvirtCode === libvirtCode;
  }
}

/** The transport failed or closed; the client reconnects and the call may be retried. */
export class LibvirtConnectionError extends LibvirtError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LibvirtConnectionLost', message, undefined, undefined, options);
  }
}

export function isLibvirtError(err: unknown, libvirtCode: number): boolean {
  return err instanceof LibvirtError && err.libvirtCode === libvirtCode;
}
