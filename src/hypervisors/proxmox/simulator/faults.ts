// SIMULATOR ONLY. Faults tests switch on to see how the client and controllers cope: latency,
// error replies, calls that never answer, VMs held locked, and tasks that take their time.

export interface FaultRule {
  method?: string;
  /** Matched against the path below /api2/json. */
  path: RegExp;
  /** How many matching calls it affects; then it is spent. */
  times: number;
  /** Matching calls to let through untouched first (fail the second write of a sequence). */
  skip?: number;
}

export interface HangFault extends FaultRule {
  /**
   * PVE handles the call, then the reply is lost on the way back (a write that took effect while
   * the client timed out). Without it the call never reaches PVE's handler.
   */
  afterHandling?: boolean;
}

export interface ErrorFault extends FaultRule {
  status: number;
  message: string;
}

export class Faults {
  /** Added before every reply. */
  latencyMs = 0;
  /** How long each task runs before it stops. */
  taskDurationMs = 5;
  /** PVE holds back every 401 by 3 s; tests usually want that off. */
  authFailureDelayMs = 0;
  private errors: ErrorFault[] = [];
  private hangs: HangFault[] = [];
  private taskFailures: { type: string; message: string; times: number }[] = [];
  private interceptors: { rule: FaultRule; run: () => void }[] = [];

  /** The next `times` matching calls get this status and message (PVE's error envelope). */
  failCalls(rule: ErrorFault): void { this.errors.push({ ...rule }); }

  /** The next `times` matching calls never answer (the client's timeout must fire). */
  hangCalls(rule: HangFault): void { this.hangs.push({ ...rule }); }

  /** The next `times` tasks of this type end with TASK ERROR: message. */
  failTasks(type: string, message: string, times = 1): void { this.taskFailures.push({ type, message, times }); }

  /** Runs `run` just before the next `times` matching calls are handled (someone else editing the VM). */
  beforeCalls(rule: FaultRule, run: () => void): void { this.interceptors.push({ rule: { ...rule }, run }); }

  runInterceptors(method: string, path: string): void {
    const hit = take(this.interceptors.map((i) => i.rule), method, path);
    if (hit) this.interceptors.find((i) => i.rule === hit)?.run();
  }

  reset(): void {
    this.interceptors = [];
    this.latencyMs = 0;
    this.taskDurationMs = 5;
    this.errors = [];
    this.hangs = [];
    this.taskFailures = [];
  }

  takeError(method: string, path: string): ErrorFault | undefined {
    return take(this.errors, method, path);
  }

  takeHang(method: string, path: string): HangFault | undefined {
    return take(this.hangs, method, path);
  }

  takeTaskFailure(type: string): string | undefined {
    const f = this.taskFailures.find((t) => t.type === type && t.times > 0);
    if (!f) return undefined;
    f.times--;
    return f.message;
  }
}

function take<T extends FaultRule>(rules: T[], method: string, path: string): T | undefined {
  const rule = rules.find((r) => r.times > 0 && (!r.method || r.method === method) && r.path.test(path));
  if (!rule) return undefined;
  if (rule.skip) {
    rule.skip--;
    return undefined;
  }
  rule.times--;
  return rule;
}
