// Errors carry a code and a cause; messages say what failed, on what, and what to do.

export class KubeApiError extends Error {
  readonly code = 'KubeApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
  get isNotFound() { return this.status === 404; }
  get isConflict() { return this.status === 409; }
  get isGone() { return this.status === 410; }
  get isForbidden() { return this.status === 403; }
}

/** A reconcile error that retrying cannot fix: the controller stops retrying until the object changes. */
export class TerminalError extends Error {
  readonly code = 'TerminalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * An error's code when it can serve as a condition reason (CamelCase, as the API's conventions
 * ask), else the fallback: system codes such as ECONNRESET never become reasons.
 */
export function reasonCode(err: unknown, fallback = 'Error'): string {
  const code = (err as { code?: string }).code;
  return code && /^[A-Z][A-Za-z]+$/.test(code) ? code : fallback;
}
