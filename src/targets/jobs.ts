// Long work (downloading an image, copying it) runs beside the reconciles, never inside one: a
// reconcile starts a job, records its progress in status and polls it on its next pass, as
// hypervisor tasks are polled. Jobs are keyed (by the file they produce), so a key is worked
// on once however often it is asked for.
export type JobState<T, P> =
  | { state: 'running'; progress: P | undefined }
  | { state: 'done'; result: T }
  | { state: 'failed'; error: Error };

interface Job<T, P> {
  state: JobState<T, P>;
  abort: AbortController;
}

export class Jobs<T, P = undefined> {
  private readonly jobs = new Map<string, Job<T, P>>();

  /** The job's state, starting it when there is none. `onSettled` fires once when it ends. */
  ensure(key: string, work: (report: (p: P) => void, signal: AbortSignal) => Promise<T>, onSettled?: () => void): JobState<T, P> {
    const existing = this.jobs.get(key);
    if (existing) return existing.state;
    const job: Job<T, P> = { state: { state: 'running', progress: undefined }, abort: new AbortController() };
    this.jobs.set(key, job);
    work((p) => { if (job.state.state === 'running') job.state = { state: 'running', progress: p }; }, job.abort.signal).then(
      (result) => { job.state = { state: 'done', result }; },
      (error: unknown) => { job.state = { state: 'failed', error: error instanceof Error ? error : new Error(String(error)) }; },
    ).finally(() => onSettled?.());
    return job.state;
  }

  get(key: string): JobState<T, P> | undefined { return this.jobs.get(key)?.state; }

  /** Forgets a finished job (its result was used) or aborts a running one. */
  forget(key: string): void {
    const job = this.jobs.get(key);
    if (!job) return;
    if (job.state.state === 'running') job.abort.abort();
    this.jobs.delete(key);
  }
}
