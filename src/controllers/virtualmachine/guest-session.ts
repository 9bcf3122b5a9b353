// One pass's conversation with a guest agent: reads are free, every change (a file written, a
// program that changes the guest) is counted in bootplane_guest_agent_writes_total and audited
// by what it touched — never by content.
import type { GuestAgent, GuestExecResult } from '../../hypervisors/guest-agent.js';
import type { ReconcileContext } from '../../kube/controller.js';
import { guestAgentMetrics } from '../../observability/metrics.js';

/** A program that ran and failed, named by its argv (which never carries file content). */
export class GuestCommandFailed extends Error {
  readonly code = 'GuestCommandFailed';
  constructor(readonly argv: string[], readonly result: GuestExecResult) {
    super(`'${argv.join(' ')}' exited ${result.exitCode}${result.stderr.trim() ? `: ${result.stderr.trim().slice(0, 512)}` : ''}`);
  }
}

export class GuestSession {
  /** Changes made in this pass. */
  writes = 0;

  constructor(readonly agent: GuestAgent, private readonly ctx: ReconcileContext) {}

  /** Runs a program that only reads; returns its result whatever the exit code. */
  read(argv: string[], timeoutMs = 30_000): Promise<GuestExecResult> {
    return this.agent.exec(argv, { timeoutMs }, this.ctx.signal);
  }

  /** Runs a program that changes the guest; a non-zero exit throws GuestCommandFailed. */
  async change(argv: string[], timeoutMs = 60_000): Promise<GuestExecResult> {
    this.count('exec');
    this.ctx.log.info({ audit: { action: 'guest.exec', argv } }, `audit: ran ${argv[0]} in the guest`);
    const result = await this.agent.exec(argv, { timeoutMs }, this.ctx.signal);
    if (result.exitCode !== 0) throw new GuestCommandFailed(argv, result);
    return result;
  }

  async writeFile(path: string, content: Buffer): Promise<void> {
    this.count('writeFile');
    this.ctx.log.info({ audit: { action: 'guest.writeFile', path, bytes: content.length } }, `audit: wrote ${path} in the guest`);
    await this.agent.writeFile(path, content, this.ctx.signal);
  }

  /**
   * Replaces a file as a whole: written beside it, given its owner and mode, then renamed over
   * it, so the guest never sees it half-written or with the wrong mode.
   */
  async replaceFile(path: string, content: Buffer, mode: string, owner: string): Promise<void> {
    const temporary = `${path}.bootplane-new`;
    await this.writeFile(temporary, content);
    await this.change(['chown', owner, temporary]);
    await this.change(['chmod', mode, temporary]);
    await this.change(['mv', '-f', temporary, path]);
  }

  private count(operation: string): void {
    this.writes++;
    guestAgentMetrics.writes.inc({ operation });
  }
}
