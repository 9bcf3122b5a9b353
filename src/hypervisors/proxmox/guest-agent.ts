// The QEMU guest agent of a Proxmox VE VM through PVE's /agent/* endpoints (see
// ../shared/pve-api/behaviours.md §11). PVE answers a missing agent with plain 500 messages;
// they are turned into GuestAgentError codes here. file-write takes at most 60 KiB per call
// (base64), so bigger files go in parts that the guest joins with cat.
import { GuestAgentError, pollExec, type GuestAgent, type GuestExecOptions, type GuestExecResult, type GuestNetworkInterface } from '../guest-agent.js';
import type { QemuAgentApi } from './client/api.js';
import { PveApiError } from './client/errors.js';

/** `sh -c JOIN_PARTS sh <file> <part>...`: concatenates the parts into the file, then removes them. */
export const JOIN_PARTS = 'out="$1"; shift; cat "$@" > "$out" && rm -f "$@"';

/** Raw bytes per file-write call: their base64 stays under the schema's 61,440 characters. */
const WRITE_PART = 45 * 1024;

export class ProxmoxGuestAgent implements GuestAgent {
  constructor(private readonly api: QemuAgentApi) {}

  async ping(signal: AbortSignal): Promise<void> {
    await this.call('ping', () => this.api.ping({ signal }));
  }

  async exec(argv: string[], options: GuestExecOptions, signal: AbortSignal): Promise<GuestExecResult> {
    if (argv.length === 0) throw new GuestAgentError('GuestAgentFailed', 'exec needs a program');
    const { pid } = await this.call('exec', () => this.api.exec(argv, options.input, { signal }));
    const status = await pollExec(async () => {
      const s = await this.call('exec-status', () => this.api.execStatus(pid, { signal }));
      return s.exited ? s : undefined;
    }, options.timeoutMs ?? 60_000, `${argv[0]} in VM ${this.api.vmid}`, signal);
    return {
      exitCode: status.exitcode ?? (status.signal !== undefined ? 128 + status.signal : -1),
      stdout: status['out-data'] ?? '',
      stderr: status['err-data'] ?? '',
    };
  }

  async writeFile(path: string, content: Buffer, signal: AbortSignal): Promise<void> {
    if (content.length <= WRITE_PART) {
      await this.call('file-write', () => this.api.fileWrite(path, content.toString('base64'), { signal }));
      return;
    }
    const parts: string[] = [];
    for (let at = 0; at < content.length; at += WRITE_PART) {
      const part = `${path}.part${parts.length}`;
      await this.call('file-write', () => this.api.fileWrite(part, content.subarray(at, at + WRITE_PART).toString('base64'), { signal }));
      parts.push(part);
    }
    const joined = await this.exec(['sh', '-c', JOIN_PARTS, 'sh', path, ...parts], {}, signal);
    if (joined.exitCode !== 0) throw new GuestAgentError('GuestAgentFailed', `joining ${parts.length} parts into ${path} failed (exit ${joined.exitCode}): ${joined.stderr.trim()}`);
  }

  async networkInterfaces(signal: AbortSignal): Promise<GuestNetworkInterface[]> {
    const { result } = await this.call('network-get-interfaces', () => this.api.networkGetInterfaces({ signal }));
    return (Array.isArray(result) ? result : []).map((i) => ({
      name: i.name,
      ...(i['hardware-address'] ? { macAddress: i['hardware-address'] } : {}),
      addresses: (i['ip-addresses'] ?? []).map((a) => ({ address: a['ip-address'], family: a['ip-address-type'] === 'ipv6' ? 'ipv6' as const : 'ipv4' as const, ...(a.prefix !== undefined ? { prefix: a.prefix } : {}) })),
    }));
  }

  private async call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw agentError(what, this.api.vmid, err);
    }
  }
}

function agentError(what: string, vmid: number, err: unknown): unknown {
  if (!(err instanceof PveApiError)) return err;
  const m = err.pveMessage;
  if (/No QEMU guest agent configured/.test(m)) return new GuestAgentError('GuestAgentNotConfigured', `VM ${vmid} has no guest agent configured (set agent: 1 in its config): ${m.trim()}`, { cause: err });
  if (/VM \d+ (is )?not running/.test(m)) return new GuestAgentError('VmNotRunning', `VM ${vmid} is not running`, { cause: err });
  if (/QEMU guest agent is not running/.test(m)) return new GuestAgentError('GuestAgentNotRunning', `the guest agent of VM ${vmid} does not answer: ${m.trim()}`, { cause: err });
  if (what === 'exec' && /No such file or directory|Failed to execute child process/.test(m)) return new GuestAgentError('GuestCommandNotFound', m.trim(), { cause: err });
  if (/^Agent error:/.test(m)) return new GuestAgentError('GuestAgentFailed', `${what} in VM ${vmid}: ${m.trim()}`, { cause: err });
  return err;
}
