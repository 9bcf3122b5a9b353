// SIMULATOR ONLY. A small in-memory Linux guest behind a simulated VM's QEMU guest agent: files
// with mode and owner, directories, installed packages, mounts, a host name, interfaces and an
// optional cloud-init. exec understands only the programs bootplane runs (cat, hostname, mkdir,
// chmod, chown, mv, rm, sha256sum, stat, mount, umount, the package tools, cloud-init), without
// a shell, as qemu-ga runs them; anything else fails as a missing program does.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { JOIN_PARTS } from '../guest-agent.js';

export interface SimGuestFile {
  content: Buffer;
  mode: number;
  owner: string;
}

export interface SimMount {
  source: string;
  target: string;
  type: string;
  options: string;
}

export interface SimGuestOptions {
  /** /etc/os-release content; PRETTY_NAME and ID decide the package tool. */
  osRelease?: string;
  hostname?: string;
  packageManager?: 'apt' | 'dnf' | 'none';
  packages?: string[];
  /** Lines of `cloud-init status --long`; undefined means cloud-init is not installed. */
  cloudInit?: { output: string; exitCode: number };
  interfaces?: { name: string; mac: string; ipv4?: string }[];
  /** The agent answers this long after the VM starts (a real one needs the guest booted). */
  agentStartDelayMs?: number;
  /** NFS exports the guest can reach, as server:/path. */
  reachableExports?: string[];
}

export interface SimExecResult {
  exitcode: number;
  out: string;
  err: string;
}

/** qemu-ga's reply when the program cannot be started. */
export class SimExecNotFound extends Error {}

export class SimGuest {
  readonly files = new Map<string, SimGuestFile>();
  readonly dirs = new Set<string>(['/', '/etc', '/tmp', '/mnt', '/proc', '/usr', '/usr/bin', '/var']);
  readonly packages: Set<string>;
  readonly mounts: SimMount[] = [];
  /** Every program run and every file written, in order (tests count the writes). */
  readonly journal: string[] = [];
  hostname: string;
  agentRunning = true;
  readonly packageManager: 'apt' | 'dnf' | 'none';
  readonly agentStartDelayMs: number;
  readonly interfaces: { name: string; mac: string; ipv4?: string }[];
  cloudInit: { output: string; exitCode: number } | undefined;
  readonly reachableExports: Set<string>;
  private nextPid = 1000;
  private readonly processes = new Map<number, SimExecResult>();

  constructor(options: SimGuestOptions = {}) {
    this.hostname = options.hostname ?? 'simguest';
    this.packageManager = options.packageManager ?? 'apt';
    this.packages = new Set(options.packages ?? []);
    this.agentStartDelayMs = options.agentStartDelayMs ?? 0;
    this.interfaces = options.interfaces ?? [{ name: 'eth0', mac: 'bc:24:11:00:00:01', ipv4: '10.0.0.5' }];
    this.cloudInit = options.cloudInit;
    this.reachableExports = new Set(options.reachableExports ?? []);
    this.writeFile('/etc/os-release', Buffer.from(options.osRelease ?? 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nID=debian\n'), 0o644, 'root:root');
    this.writeFile('/etc/fstab', Buffer.from('# /etc/fstab: static file system information.\nUUID=1111-2222 / ext4 errors=remount-ro 0 1\n'), 0o644, 'root:root');
    this.journal.length = 0;
  }

  /** The agent's guest-file-open + write + close: creates or truncates, mode 0644 for a new file. */
  writeFile(path: string, content: Buffer, mode = 0o644, owner = 'root:root'): void {
    if (!this.dirs.has(posix.dirname(path))) throw new SimExecNotFound(`Failed to open file '${path}': No such file or directory`);
    const existing = this.files.get(path);
    this.files.set(path, { content, mode: existing?.mode ?? mode, owner: existing?.owner ?? owner });
    this.journal.push(`write ${path}`);
  }

  /** Starts a program (guest-exec): returns its pid; it has finished by the first status call. */
  start(argv: string[], input?: string): number {
    const result = this.run(argv, input);
    this.journal.push(`exec ${argv.join(' ')}`);
    const pid = this.nextPid++;
    this.processes.set(pid, result);
    return pid;
  }

  status(pid: number): SimExecResult | undefined {
    return this.processes.get(pid);
  }

  text(path: string): string | undefined {
    return this.files.get(path)?.content.toString('utf8');
  }

  private run(argv: string[], input: string | undefined): SimExecResult {
    const [program, ...args] = argv;
    const name = posix.basename(program ?? '');
    const ok = (out = ''): SimExecResult => ({ exitcode: 0, out, err: '' });
    const fail = (err: string, exitcode = 1): SimExecResult => ({ exitcode, out: '', err });
    switch (name) {
      case 'cat': {
        if (args.length === 0) return ok(input ?? '');
        let out = '';
        for (const p of args) {
          if (p === '/proc/mounts') { out += this.mounts.map((m) => `${m.source} ${m.target} ${m.type} ${m.options} 0 0\n`).join(''); continue; }
          const f = this.files.get(p);
          if (!f) return { exitcode: 1, out, err: `cat: ${p}: No such file or directory\n` };
          out += f.content.toString('utf8');
        }
        return ok(out);
      }
      case 'hostname': return ok(`${this.hostname}\n`);
      case 'mkdir': {
        for (const p of args.filter((a) => !a.startsWith('-'))) {
          let d = p;
          const chain: string[] = [];
          while (d !== '/' && !this.dirs.has(d)) { chain.push(d); d = posix.dirname(d); }
          for (const c of chain) this.dirs.add(c);
        }
        return ok();
      }
      case 'chmod': {
        const [mode, ...paths] = args;
        for (const p of paths) {
          const f = this.files.get(p);
          if (!f) return fail(`chmod: ${p}: No such file or directory\n`);
          f.mode = parseInt(mode!, 8);
        }
        return ok();
      }
      case 'chown': {
        const [owner, ...paths] = args;
        for (const p of paths) {
          const f = this.files.get(p);
          if (!f) return fail(`chown: ${p}: No such file or directory\n`);
          f.owner = owner!.includes(':') ? owner! : `${owner}:${owner}`;
        }
        return ok();
      }
      case 'mv': {
        const [from, to] = args.filter((a) => !a.startsWith('-'));
        const f = this.files.get(from!);
        if (!f || !to) return fail(`mv: can't rename '${from}': No such file or directory\n`);
        this.files.delete(from!);
        this.files.set(to, f);
        return ok();
      }
      case 'rm': {
        for (const p of args.filter((a) => !a.startsWith('-'))) this.files.delete(p);
        return ok();
      }
      case 'sha256sum': {
        let out = '';
        let exitcode = 0;
        let err = '';
        for (const p of args) {
          const f = this.files.get(p);
          if (!f) { exitcode = 1; err += `sha256sum: ${p}: No such file or directory\n`; continue; }
          out += `${createHash('sha256').update(f.content).digest('hex')}  ${p}\n`;
        }
        return { exitcode, out, err };
      }
      case 'stat': {
        // Only the form bootplane uses: stat -c '%a %U:%G %n' paths...
        const paths = args.slice(2);
        let out = '';
        let exitcode = 0;
        for (const p of paths) {
          const f = this.files.get(p);
          if (!f) { exitcode = 1; continue; }
          out += `${f.mode.toString(8)} ${f.owner} ${p}\n`;
        }
        return { exitcode, out, err: '' };
      }
      case 'mount': {
        if (args[0] !== '-a') return fail('mount: only -a is simulated\n');
        const nfsCapable = this.packageManager === 'none' || this.packages.has('nfs-common') || this.packages.has('nfs-utils');
        let err = '';
        for (const line of (this.text('/etc/fstab') ?? '').split('\n')) {
          const fields = line.trim().split(/\s+/);
          if (fields.length < 4 || fields[0]!.startsWith('#')) continue;
          const [source, target, type, options] = fields as [string, string, string, string];
          if (type !== 'nfs' && type !== 'nfs4') continue;
          if (this.mounts.some((m) => m.target === target)) continue;
          if (!nfsCapable) { err += `mount: ${target}: bad option; for several filesystems (e.g. nfs, cifs) you might need a /sbin/mount.<type> helper program.\n`; continue; }
          if (!this.dirs.has(target)) { err += `mount: ${target}: mount point does not exist.\n`; continue; }
          if (!this.reachableExports.has(source)) { err += `mount.nfs: Connection timed out for ${source} on ${target}\n`; continue; }
          this.mounts.push({ source, target, type, options });
        }
        return err ? { exitcode: 32, out: '', err } : ok();
      }
      case 'umount': {
        const i = this.mounts.findIndex((m) => m.target === args[0]);
        if (i < 0) return fail(`umount: ${args[0]}: not mounted.\n`, 32);
        this.mounts.splice(i, 1);
        return ok();
      }
      case 'dpkg-query': {
        if (this.packageManager !== 'apt') throw new SimExecNotFound(`Failed to execute child process “${program}” (No such file or directory)`);
        const pkg = args.at(-1)!;
        return this.packages.has(pkg) ? ok('install ok installed') : fail(`dpkg-query: no packages found matching ${pkg}\n`);
      }
      case 'apt-get': {
        if (this.packageManager !== 'apt') throw new SimExecNotFound(`Failed to execute child process “${program}” (No such file or directory)`);
        if (!args.includes('install')) return fail('E: only install is simulated\n', 100);
        for (const pkg of args.filter((a) => !a.startsWith('-') && a !== 'install')) this.packages.add(pkg);
        return ok('Setting up nfs-common ...\n');
      }
      case 'rpm': {
        if (this.packageManager !== 'dnf') throw new SimExecNotFound(`Failed to execute child process “${program}” (No such file or directory)`);
        const pkg = args.at(-1)!;
        return this.packages.has(pkg) ? ok(`${pkg}-2.5.4-1.x86_64\n`) : fail(`package ${pkg} is not installed\n`);
      }
      case 'dnf': {
        if (this.packageManager !== 'dnf') throw new SimExecNotFound(`Failed to execute child process “${program}” (No such file or directory)`);
        for (const pkg of args.filter((a) => !a.startsWith('-') && a !== 'install')) this.packages.add(pkg);
        return ok('Complete!\n');
      }
      case 'sh': {
        // Only the one script bootplane runs through a shell: joining a file written in parts.
        if (args[0] !== '-c' || args[1] !== JOIN_PARTS) return fail('sh: only the part-joining script is simulated\n', 2);
        const [out, ...parts] = args.slice(3);
        const missing = parts.find((p) => !this.files.has(p));
        if (missing) return fail(`cat: can't open '${missing}': No such file or directory\n`);
        const existing = this.files.get(out!);
        this.files.set(out!, { content: Buffer.concat(parts.map((p) => this.files.get(p)!.content)), mode: existing?.mode ?? 0o644, owner: existing?.owner ?? 'root:root' });
        for (const p of parts) this.files.delete(p);
        return ok();
      }
      case 'env': {
        const rest = args.filter((a) => !/^[A-Z_]+=/.test(a));
        return this.run(rest, input);
      }
      case 'cloud-init': {
        if (!this.cloudInit) throw new SimExecNotFound(`Failed to execute child process “${program}” (No such file or directory)`);
        return { exitcode: this.cloudInit.exitCode, out: this.cloudInit.output, err: '' };
      }
      default:
        throw new SimExecNotFound(`Failed to execute child process “${program}” (No such file or directory)`);
    }
  }
}
