// The tgt driver: Linux's userspace iSCSI target, driven through tgtadm on the target host.
// tgtd numbers targets (tids); this driver finds them by IQN in `--op show`, so it keeps no
// table of its own and works the same after tgtd or bootplane restarted. Calls are serialised:
// tid allocation is read-then-create.
import { execFile } from 'node:child_process';
import type { InitiatorAdmission, TargetConnection, TargetDriver, TargetState } from '../driver.js';
import { TargetError } from '../driver.js';
import { parseTargetShow, type TgtTarget } from './show.js';

export interface TgtDriverOptions {
  /** tgtd's management port (-C): several tgtd can run on one host, each with its own. */
  controlPort: number;
  /** tgtadm binary; tests may point at another. */
  tgtadm?: string;
  /** Bound for one tgtadm call. */
  timeoutMs?: number;
}

/** tgtadm's exit code (usr/tgtadm_error.h) when nothing listens on the control port. */
const TGTADM_DAEMON_DOWN = 107;

export class TgtDriver implements TargetDriver {
  readonly name = 'tgt';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: TgtDriverOptions) {}

  list(): Promise<Map<string, TargetState>> {
    return this.serial(async () => new Map((await this.show()).map((t) => [t.iqn, t])));
  }

  createTarget(iqn: string): Promise<void> {
    return this.serial(async () => {
      const targets = await this.show();
      if (targets.some((t) => t.iqn === iqn)) return;
      const tid = targets.reduce((max, t) => Math.max(max, t.tid), 0) + 1;
      await this.tgtadm(['--mode', 'target', '--op', 'new', '--tid', String(tid), '--targetname', iqn]);
    });
  }

  addLun(iqn: string, lun: number, backingFile: string): Promise<void> {
    return this.serial(async () => {
      const target = await this.find(iqn);
      const existing = target.luns.get(lun);
      if (existing === backingFile) return;
      if (existing !== undefined) await this.tgtadm(['--mode', 'logicalunit', '--op', 'delete', '--tid', String(target.tid), '--lun', String(lun)]);
      await this.tgtadm(['--mode', 'logicalunit', '--op', 'new', '--tid', String(target.tid), '--lun', String(lun), '--backing-store', backingFile]);
    });
  }

  /**
   * tgt admits a login when its initiator name OR its address is on the target's list (seen on
   * tgtd 1.0.85: name + ALL admits every name). So the target lists the initiator name only:
   * with tgt the machine's address is not enforced (a driver that can require both should).
   */
  admit(iqn: string, initiator: InitiatorAdmission): Promise<void> {
    return this.serial(async () => {
      const target = await this.find(iqn);
      const tid = String(target.tid);
      // Narrow first, then widen: at no moment does the target admit more than before or after.
      for (const a of target.addresses) await this.tgtadm(['--mode', 'target', '--op', 'unbind', '--tid', tid, '--initiator-address', a]);
      for (const name of target.initiators) {
        if (name !== initiator.iqn) await this.tgtadm(['--mode', 'target', '--op', 'unbind', '--tid', tid, '--initiator-name', name]);
      }
      for (const user of target.chapUsers) {
        if (user !== initiator.chap?.username) await this.dropAccount(tid, user);
      }
      if (initiator.chap) {
        // Deleting and adding again sets the current password whatever the account held.
        if (target.chapUsers.includes(initiator.chap.username)) await this.dropAccount(tid, initiator.chap.username);
        await this.tgtadm(['--mode', 'account', '--op', 'new', '--user', initiator.chap.username, '--password', initiator.chap.password], true);
        await this.tgtadm(['--mode', 'account', '--op', 'bind', '--tid', tid, '--user', initiator.chap.username]);
      }
      if (!target.initiators.includes(initiator.iqn)) await this.tgtadm(['--mode', 'target', '--op', 'bind', '--tid', tid, '--initiator-name', initiator.iqn]);
    });
  }

  connections(iqn: string): Promise<TargetConnection[]> {
    return this.serial(async () => (await this.find(iqn)).connections);
  }

  remove(iqn: string): Promise<void> {
    return this.serial(async () => {
      const target = (await this.show()).find((t) => t.iqn === iqn);
      if (!target) return;
      const tid = String(target.tid);
      await this.tgtadm(['--mode', 'target', '--op', 'delete', '--force', '--tid', tid]);
      for (const user of target.chapUsers) await this.tgtadm(['--mode', 'account', '--op', 'delete', '--user', user]).catch(() => undefined);
    });
  }

  private async dropAccount(tid: string, user: string): Promise<void> {
    await this.tgtadm(['--mode', 'account', '--op', 'unbind', '--tid', tid, '--user', user]).catch(() => undefined);
    await this.tgtadm(['--mode', 'account', '--op', 'delete', '--user', user]).catch(() => undefined);
  }

  private async find(iqn: string): Promise<TgtTarget> {
    const target = (await this.show()).find((t) => t.iqn === iqn);
    if (!target) throw new TargetError('TargetNotFound', `tgtd holds no target ${iqn}`);
    return target;
  }

  private async show(): Promise<TgtTarget[]> {
    return parseTargetShow(await this.tgtadm(['--mode', 'target', '--op', 'show']));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** secretArgs: the arguments hold a password, so no error may quote them. */
  private tgtadm(args: string[], secretArgs = false): Promise<string> {
    const argv = ['-C', String(this.o.controlPort), '--lld', 'iscsi', ...args];
    const shown = secretArgs ? `${args.slice(0, 4).join(' ')} …` : args.join(' ');
    return new Promise((resolve, reject) => {
      execFile(this.o.tgtadm ?? 'tgtadm', argv, { timeout: this.o.timeoutMs ?? 10_000, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = typeof err.code === 'number' ? err.code : undefined;
        const said = stderr.trim().replace(/^tgtadm: /, '');
        // Node's message and the error itself quote the command line: never with a password in it.
        const detail = said || (secretArgs ? `exit ${code ?? '?'}` : err.message);
        const cause = secretArgs ? undefined : err;
        if (code === TGTADM_DAEMON_DOWN || (err as NodeJS.ErrnoException).code === 'ENOENT') {
          return reject(new TargetError('TargetDaemonUnavailable', `tgtd does not answer on control port ${this.o.controlPort} (${detail}); is it running?`, { cause }));
        }
        if (said.includes("can't find the target")) return reject(new TargetError('TargetNotFound', `tgtadm ${shown}: ${said}`, { cause }));
        reject(new TargetError('TargetRefused', `tgtadm ${shown}: ${detail}`, { cause }));
      });
    });
  }
}
