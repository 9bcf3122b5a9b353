// The QEMU guest agent as controllers see it, whichever hypervisor carries the calls (libvirt's
// qemu-agent-command, Proxmox VE's /agent/* endpoints). Only the calls both can make: ping, run
// a program and wait for it, write a file, list network interfaces. Everything else (os-release,
// host name, fstab) is read by running programs, so both drivers behave alike.
import { DriverError } from './driver.js';

export interface GuestExecResult {
  exitCode: number;
  /** Decoded as UTF-8. */
  stdout: string;
  stderr: string;
}

export interface GuestExecOptions {
  /** Standard input for the program. */
  input?: string;
  /** How long to wait for the program to exit (default 60 s). */
  timeoutMs?: number;
}

export interface GuestNetworkInterface {
  name: string;
  macAddress?: string;
  addresses: { address: string; family: 'ipv4' | 'ipv6'; prefix?: number }[];
}

export interface GuestAgent {
  /** Resolves when the agent answers; throws GuestAgentError otherwise. */
  ping(signal: AbortSignal): Promise<void>;
  /**
   * Runs argv[0] (searched in the guest's PATH) with the rest as arguments, without a shell, and
   * waits for it to exit. A program that does not exist throws GuestAgentError GuestCommandNotFound.
   */
  exec(argv: string[], options: GuestExecOptions, signal: AbortSignal): Promise<GuestExecResult>;
  /** Creates or replaces a file with this content (mode and owner are the guest's defaults). */
  writeFile(path: string, content: Buffer, signal: AbortSignal): Promise<void>;
  networkInterfaces(signal: AbortSignal): Promise<GuestNetworkInterface[]>;
}

/**
 * Codes: GuestAgentNotConfigured (the VM has no agent channel / agent option), VmNotRunning,
 * GuestAgentNotRunning (configured, but nothing answers), GuestCommandNotFound, GuestCommandTimeout,
 * GuestAgentFailed (the agent answered with an error).
 */
export class GuestAgentError extends DriverError {
  constructor(code: 'GuestAgentNotConfigured' | 'VmNotRunning' | 'GuestAgentNotRunning' | 'GuestCommandNotFound' | 'GuestCommandTimeout' | 'GuestAgentFailed', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Polls `status` until it reports an exit, with a short growing interval, or times out. */
export async function pollExec<T>(status: () => Promise<T | undefined>, timeoutMs: number, what: string, signal: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    const done = await status();
    if (done !== undefined) return done;
    if (Date.now() > deadline) throw new GuestAgentError('GuestCommandTimeout', `${what} did not exit within ${Math.round(timeoutMs / 1000)} s`);
    signal.throwIfAborted();
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
}
