// Where the machine's CPU went during a benchmark: kube-apiserver, etcd, the controller child,
// and this process (the PVE simulator and the benchmark's own polling). On a 2-core machine
// every one of them competes with the others, so a throughput figure means little without it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROL_PLANE_STATE } from '../test/support/paths.js';

/** CPU seconds (user + system) so far, per process name. */
export type CpuSeconds = Record<string, number>;

const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

function processCpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is the
    // 14th field of the line and stime the 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined; // gone, or not ours to read
  }
}

function pidFromFile(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

export function cpuSeconds(controllerPid?: number): CpuSeconds {
  const own = process.cpuUsage();
  const out: CpuSeconds = { bench: (own.user + own.system) / 1e6 };
  const pids: Record<string, number | undefined> = {
    'kube-apiserver': pidFromFile(join(CONTROL_PLANE_STATE, 'apiserver.pid')),
    etcd: pidFromFile(join(CONTROL_PLANE_STATE, 'etcd.pid')),
    controller: controllerPid,
  };
  for (const [name, pid] of Object.entries(pids)) {
    const seconds = pid === undefined ? undefined : processCpuSeconds(pid);
    if (seconds !== undefined) out[name] = seconds;
  }
  return out;
}

/** CPU seconds spent between two samples, rounded to 0.1 s. */
export function cpuSince(before: CpuSeconds, after: CpuSeconds): CpuSeconds {
  const out: CpuSeconds = {};
  for (const [name, seconds] of Object.entries(after)) out[name] = Math.round((seconds - (before[name] ?? 0)) * 10) / 10;
  return out;
}
