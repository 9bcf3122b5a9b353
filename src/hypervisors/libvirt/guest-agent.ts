// The QEMU guest agent of a libvirt domain, spoken through qemu-agent-command (libvirt's qemu
// program over our RPC client): guest-ping, guest-exec + guest-exec-status, guest-file-open /
// write / close, guest-network-get-interfaces. Agent JSON in, agent JSON out.
import { GuestAgentError, pollExec, type GuestAgent, type GuestExecOptions, type GuestExecResult, type GuestNetworkInterface } from '../guest-agent.js';
import type { LibvirtClient } from './rpc/client.js';
import { LibvirtError } from './rpc/errors.js';
import { ErrorCode } from './rpc/protocol.js';
import type { DomainRef } from './rpc/types.js';

/** Seconds libvirt waits for one agent reply before it calls the agent unresponsive. */
const AGENT_REPLY_SECONDS = 5;
/** Bytes per guest-file-write: the reply and request stay far below the agent's message limit. */
const WRITE_CHUNK = 48 * 1024;

interface ExecStatus { exited: boolean; exitcode?: number; signal?: number; 'out-data'?: string; 'err-data'?: string }

export class LibvirtGuestAgent implements GuestAgent {
  constructor(private readonly client: LibvirtClient, private readonly domainName: string) {}

  async ping(signal: AbortSignal): Promise<void> {
    await this.command('guest-ping', undefined, signal);
  }

  async exec(argv: string[], options: GuestExecOptions, signal: AbortSignal): Promise<GuestExecResult> {
    const [path, ...arg] = argv;
    if (!path) throw new GuestAgentError('GuestAgentFailed', 'exec needs a program');
    const started = await this.command<{ pid: number }>('guest-exec', {
      path, arg, 'capture-output': true,
      ...(options.input !== undefined ? { 'input-data': Buffer.from(options.input).toString('base64') } : {}),
    }, signal);
    const status = await pollExec(async () => {
      const s = await this.command<ExecStatus>('guest-exec-status', { pid: started.pid }, signal);
      return s.exited ? s : undefined;
    }, options.timeoutMs ?? 60_000, `${path} in domain ${this.domainName}`, signal);
    return {
      exitCode: status.exitcode ?? (status.signal !== undefined ? 128 + status.signal : -1),
      stdout: Buffer.from(status['out-data'] ?? '', 'base64').toString('utf8'),
      stderr: Buffer.from(status['err-data'] ?? '', 'base64').toString('utf8'),
    };
  }

  async writeFile(path: string, content: Buffer, signal: AbortSignal): Promise<void> {
    const handle = await this.command<number>('guest-file-open', { path, mode: 'w' }, signal);
    try {
      let at = 0;
      do {
        await this.command('guest-file-write', { handle, 'buf-b64': content.subarray(at, at + WRITE_CHUNK).toString('base64') }, signal);
        at += WRITE_CHUNK;
      } while (at < content.length);
    } finally {
      await this.command('guest-file-close', { handle }, signal);
    }
  }

  async networkInterfaces(signal: AbortSignal): Promise<GuestNetworkInterface[]> {
    const list = await this.command<{ name: string; 'hardware-address'?: string; 'ip-addresses'?: { 'ip-address': string; 'ip-address-type': string; prefix?: number }[] }[]>('guest-network-get-interfaces', undefined, signal);
    return list.map((i) => ({
      name: i.name,
      ...(i['hardware-address'] ? { macAddress: i['hardware-address'] } : {}),
      addresses: (i['ip-addresses'] ?? []).map((a) => ({ address: a['ip-address'], family: a['ip-address-type'] === 'ipv6' ? 'ipv6' as const : 'ipv4' as const, ...(a.prefix !== undefined ? { prefix: a.prefix } : {}) })),
    }));
  }

  private async command<T>(execute: string, args: Record<string, unknown> | undefined, signal: AbortSignal): Promise<T> {
    let dom: DomainRef;
    let reply: string | undefined;
    try {
      dom = await this.client.lookupDomainByName(this.domainName, signal);
      reply = await this.client.agentCommand(dom, JSON.stringify(args ? { execute, arguments: args } : { execute }), AGENT_REPLY_SECONDS, signal);
    } catch (err) {
      throw agentError(execute, this.domainName, err);
    }
    if (reply === undefined) throw new GuestAgentError('GuestAgentFailed', `${execute}: the agent of domain ${this.domainName} sent no reply`);
    const parsed = JSON.parse(reply) as { return?: T; error?: { desc?: string } };
    if (parsed.error) throw new GuestAgentError('GuestAgentFailed', `${execute} in domain ${this.domainName}: ${parsed.error.desc ?? 'agent error'}`);
    return parsed.return as T;
  }
}

function agentError(execute: string, domainName: string, err: unknown): GuestAgentError {
  const message = (err as Error).message ?? String(err);
  if (err instanceof LibvirtError) {
    if (err.is(ErrorCode.NO_DOMAIN)) return new GuestAgentError('VmNotRunning', `domain ${domainName} does not exist`, { cause: err });
    if (err.is(ErrorCode.ARGUMENT_UNSUPPORTED) || /guest agent is not configured/i.test(message)) {
      return new GuestAgentError('GuestAgentNotConfigured', `domain ${domainName} has no guest agent channel (<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>)`, { cause: err });
    }
    if (err.is(ErrorCode.OPERATION_INVALID) && /not running/i.test(message)) return new GuestAgentError('VmNotRunning', `domain ${domainName} is not running`, { cause: err });
    if (err.is(ErrorCode.AGENT_UNRESPONSIVE) || err.is(ErrorCode.OPERATION_TIMEOUT)) {
      return new GuestAgentError('GuestAgentNotRunning', `the guest agent of domain ${domainName} does not answer: ${message}`, { cause: err });
    }
    if (execute === 'guest-exec' && /No such file or directory|Failed to execute child process/i.test(message)) {
      return new GuestAgentError('GuestCommandNotFound', `${message}`, { cause: err });
    }
  }
  return new GuestAgentError('GuestAgentFailed', `${execute} in domain ${domainName}: ${message}`, { cause: err });
}
