// Runs `bootplane controller` as a separate process (as it runs in a cluster), collecting its
// JSON log lines so tests can see what it did.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { KUBECONFIG, ROOT } from './paths.js';

export interface LogLine {
  msg: string;
  level: number;
  [key: string]: unknown;
}

export class ControllerProcess {
  readonly lines: LogLine[] = [];
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  onStderr: ((text: string) => void) | undefined;

  constructor(readonly identity: string, flags: Record<string, string>, kubeconfig = KUBECONFIG, command = 'controller') {
    const args = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), command, '--identity', identity];
    for (const [k, v] of Object.entries({ 'metrics-addr': '127.0.0.1:0', 'health-addr': '127.0.0.1:0', 'boot-addr': '127.0.0.1:0', 'console-addr': '127.0.0.1:0', 'log-level': 'debug', ...flags })) args.push(`--${k}`, v);
    this.child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let i: number;
      while ((i = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ msg: line, level: 30 });
        }
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.lines.push({ msg: chunk.toString(), level: 50, stderr: true });
      this.onStderr?.(chunk.toString());
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  has(predicate: (line: LogLine) => boolean): boolean {
    return this.lines.some(predicate);
  }

  reconciled(controller: string, name: string): boolean {
    return this.has((l) => l.msg === 'reconciled' && l.controller === controller && l.name === name);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}
