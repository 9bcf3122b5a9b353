// Runs tgtd on this host and keeps it running: bootplane is the target host in standalone mode
// (or on a storage node in a cluster, see charts/bootplane/values.yaml `diskless`). tgtd keeps
// its table in memory only, so after every (re)start the listeners are told and the
// DisklessSession controller rebuilds the table from the sessions.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';

export interface TgtDaemonOptions {
  /** host:port the iSCSI portal listens on. */
  portal: string;
  controlPort: number;
  log: Logger;
  tgtd?: string;
  tgtadm?: string;
  /** First delay before restarting a tgtd that died; doubles up to 30 s while it keeps dying. */
  restartDelayMs?: number;
}

export type TgtDaemonHealth =
  | { state: 'starting' | 'running' | 'stopped' }
  | { state: 'failed'; code: 'TargetPortInUse' | 'TargetDaemonUnavailable'; message: string };

export class TgtDaemon {
  private child: ChildProcess | undefined;
  private stopping = false;
  private delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();
  private current: TgtDaemonHealth = { state: 'stopped' };
  /** How many times tgtd came up (1 after the first start; more after restarts). */
  starts = 0;

  constructor(private readonly o: TgtDaemonOptions) {
    this.delayMs = o.restartDelayMs ?? 500;
  }

  get health(): TgtDaemonHealth { return this.current; }
  get pid(): number | undefined { return this.child?.pid; }

  /** Called after every start that brought tgtd up with an empty table. */
  onStarted(listener: () => void): void { this.listeners.add(listener); }

  /** Starts tgtd and resolves once it answers (or has failed; see health). */
  async start(): Promise<void> {
    this.stopping = false;
    await this.launch();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // tgtd ignores SIGTERM; this is its own way down. SIGKILL if it does not go.
    await this.admin(['--op', 'update', '--mode', 'sys', '--name', 'State', '-v', 'offline']).catch(() => undefined);
    await this.admin(['--op', 'delete', '--mode', 'system']).catch(() => undefined);
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
    this.current = { state: 'stopped' };
  }

  private async launch(): Promise<void> {
    this.current = { state: 'starting' };
    let stderr = '';
    const child = spawn(this.o.tgtd ?? 'tgtd', ['-f', '-C', String(this.o.controlPort), '--iscsi', `portal=${this.o.portal}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => { if (stderr.length < 16_384) stderr += chunk; });
    child.once('error', (err) => {
      this.current = { state: 'failed', code: 'TargetDaemonUnavailable', message: `tgtd could not be started: ${err.message}` };
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      const message = `tgtd exited (${signal ?? `code ${code}`}); restarting in ${this.delayMs} ms and rebuilding its targets from the sessions`;
      this.o.log.warn({ controlPort: this.o.controlPort }, message);
      this.current = { state: 'failed', code: 'TargetDaemonUnavailable', message };
      this.timer = setTimeout(() => void this.launch(), this.delayMs);
      this.delayMs = Math.min(this.delayMs * 2, 30_000);
    });

    // Ready when tgtadm answers on our control port.
    for (let i = 0; i < 50 && this.child === child && child.exitCode === null; i++) {
      if (await this.admin(['--mode', 'sys', '--op', 'show']).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.child !== child || child.exitCode !== null) return;
    // tgtd keeps running when it cannot bind its portal, serving nobody: that is a failure.
    if (/failed to create\/bind to portal/.test(stderr)) {
      const message = `the iSCSI portal ${this.o.portal} is in use by another process; free the port or set --diskless-portal`;
      this.o.log.error({ portal: this.o.portal }, message);
      this.stopping = true;
      await this.stop();
      this.stopping = false;
      this.current = { state: 'failed', code: 'TargetPortInUse', message };
      // Try again later: the port may be freed.
      this.timer = setTimeout(() => void this.launch(), 10_000);
      return;
    }
    this.current = { state: 'running' };
    this.delayMs = this.o.restartDelayMs ?? 500;
    if (this.starts++ > 0) this.o.log.info({ controlPort: this.o.controlPort, pid: child.pid }, 'tgtd restarted');
    for (const l of this.listeners) l();
  }

  private admin(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(this.o.tgtadm ?? 'tgtadm', ['-C', String(this.o.controlPort), ...args], { timeout: 5000 }, (err) => (err ? reject(err) : resolve()));
    });
  }
}
