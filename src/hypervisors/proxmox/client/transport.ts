// HTTP to one PVE endpoint: the /api2/json envelope, API-token or ticket+CSRF authentication,
// a timeout and the caller's AbortSignal on every call, and retries only where they are safe
// (idempotent calls, transient failures). Nothing here ever puts a credential in an error.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent, Dispatcher } from 'undici';
import { DriverError } from '../../driver.js';
import { PveApiError, PveProtocolError, PveTransportError } from './errors.js';

export type PveCredentials =
  | { kind: 'token'; tokenId: string; secret: string }
  | { kind: 'ticket'; username: string; password: string };

export type ParamValue = string | number | boolean | string[] | undefined;
export type Params = Record<string, ParamValue>;

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the transport's default per-call timeout. */
  timeoutMs?: number;
}

export interface TransportOptions {
  endpoint: string;
  credentials: PveCredentials;
  dispatcher: Agent;
  requestTimeoutMs: number;
  /** Attempts for idempotent calls that failed transiently (1 = no retry). */
  maxAttempts?: number;
  retryBaseMs?: number;
  /** Counts every HTTP request (benchmarks and tests read it). */
  onRequest?: (method: string, path: string) => void;
}

interface Ticket {
  ticket: string;
  csrf: string;
  obtainedAt: number;
}

// PVE tickets live 2 h; renew well before that so a long reconcile never straddles expiry.
const TICKET_RENEW_MS = 60 * 60 * 1000;
const TRANSIENT_STATUS = new Set([502, 503, 504, 596]);

export function encodeParams(params: Params): URLSearchParams {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.append(key, v);
    else if (typeof value === 'boolean') out.append(key, value ? '1' : '0');
    else out.append(key, String(value));
  }
  return out;
}

/** Builds an API path with every interpolated value percent-encoded. */
export function apiPath(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  return strings.reduce((acc, s, i) => acc + s + (i < values.length ? encodeURIComponent(String(values[i])) : ''), '');
}

export class PveTransport {
  private readonly base: URL;
  private ticket: Ticket | undefined;
  private login: Promise<Ticket> | undefined;

  constructor(private readonly options: TransportOptions) {
    this.base = new URL(options.endpoint);
  }

  get endpoint(): string { return this.base.origin; }

  get<T>(path: string, params: Params = {}, opts: CallOptions = {}): Promise<T> {
    return this.call<T>('GET', path, params, opts, true);
  }

  /** POST is never retried: PVE may have started the task even when the reply was lost. */
  post<T>(path: string, params: Params = {}, opts: CallOptions = {}): Promise<T> {
    return this.call<T>('POST', path, params, opts, false);
  }

  put<T>(path: string, params: Params = {}, opts: CallOptions = {}): Promise<T> {
    return this.call<T>('PUT', path, params, opts, false);
  }

  delete<T>(path: string, params: Params = {}, opts: CallOptions = {}): Promise<T> {
    return this.call<T>('DELETE', path, params, opts, false);
  }

  async close(): Promise<void> {
    await this.options.dispatcher.close();
  }

  private async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params: Params, opts: CallOptions, idempotent: boolean): Promise<T> {
    const attempts = idempotent ? (this.options.maxAttempts ?? 3) : 1;
    let reauthenticated = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, path, params, opts);
      } catch (err) {
        // An expired or revoked ticket: log in again once, then give up.
        if (err instanceof PveApiError && err.status === 401 && this.options.credentials.kind === 'ticket' && !reauthenticated && path !== '/access/ticket') {
          reauthenticated = true;
          this.ticket = undefined;
          attempt--;
          continue;
        }
        if (attempt >= attempts || !isTransient(err) || opts.signal?.aborted) throw err;
        const delay = (this.options.retryBaseMs ?? 200) * 2 ** (attempt - 1) * (0.5 + Math.random());
        await sleep(delay, undefined, { signal: opts.signal }).catch(() => { throw err; });
      }
    }
  }

  private async once<T>(method: string, path: string, params: Params, opts: CallOptions): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const creds = this.options.credentials;
    if (creds.kind === 'token') {
      headers.authorization = `PVEAPIToken=${creds.tokenId}=${creds.secret}`;
    } else if (path !== '/access/ticket') {
      const ticket = await this.currentTicket(opts);
      headers.cookie = `PVEAuthCookie=${encodeURIComponent(ticket.ticket)}`;
      if (method !== 'GET') headers.csrfpreventiontoken = ticket.csrf;
    }
    const encoded = encodeParams(params);
    let url = `/api2/json${path}`;
    let body: string | undefined;
    if (method === 'GET' || method === 'DELETE') {
      const q = encoded.toString();
      if (q) url += `?${q}`;
    } else {
      body = encoded.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }

    // The deadline is undici's (no answer, or a body that stops, for timeoutMs): an
    // AbortSignal.timeout per call kept a 30 s timer and signal alive for every call made in the
    // last 30 s, thousands of objects on the heap while a fleet converges.
    const timeoutMs = opts.timeoutMs ?? this.options.requestTimeoutMs;
    this.options.onRequest?.(method, path);
    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await this.options.dispatcher.request({
        origin: this.base.origin, path: url, method: method as Dispatcher.HttpMethod, headers, body,
        ...(opts.signal ? { signal: opts.signal } : {}),
        headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      });
      text = await response.body.text();
    } catch (err) {
      throw transportError(err, method, path, this.base.origin, timeoutMs, opts.signal);
    }

    let envelope: { data?: unknown; message?: string; errors?: Record<string, string> } | undefined;
    if (text.length > 0) {
      try {
        envelope = JSON.parse(text) as typeof envelope;
      } catch (err) {
        if (response.statusCode < 400) throw new PveProtocolError(`${method} ${path} on ${this.base.origin} answered ${response.statusCode} with a body that is not JSON; is the endpoint a Proxmox VE API?`, { cause: err });
      }
    }
    if (response.statusCode >= 300) {
      const message = envelope?.message ?? response.statusText ?? '';
      throw new PveApiError(response.statusCode, method, path, message || `HTTP ${response.statusCode}`, envelope?.errors);
    }
    if (!envelope || !('data' in envelope)) throw new PveProtocolError(`${method} ${path} on ${this.base.origin} answered without a data field; is the endpoint a Proxmox VE API?`);
    return envelope.data as T;
  }

  private async currentTicket(opts: CallOptions): Promise<Ticket> {
    if (this.ticket && Date.now() - this.ticket.obtainedAt < TICKET_RENEW_MS) return this.ticket;
    this.login ??= this.requestTicket(opts).finally(() => { this.login = undefined; });
    this.ticket = await this.login;
    return this.ticket;
  }

  private async requestTicket(opts: CallOptions): Promise<Ticket> {
    const creds = this.options.credentials;
    if (creds.kind !== 'ticket') throw new PveProtocolError('ticket login without a username and password');
    const data = await this.once<{ ticket?: string; CSRFPreventionToken?: string }>('POST', '/access/ticket', { username: creds.username, password: creds.password }, opts);
    if (!data?.ticket || !data.CSRFPreventionToken) throw new PveProtocolError('POST /access/ticket answered without a ticket and CSRF token');
    return { ticket: data.ticket, csrf: data.CSRFPreventionToken, obtainedAt: Date.now() };
  }
}

function isTransient(err: unknown): boolean {
  if (err instanceof PveApiError) return TRANSIENT_STATUS.has(err.status);
  return err instanceof PveTransportError && err.code !== 'TLSVerificationFailed';
}

function transportError(err: unknown, method: string, path: string, origin: string, timeoutMs: number, callerSignal?: AbortSignal): Error {
  if (err instanceof DriverError) return err; // already ours (a TLS pin mismatch from the connector)
  if (callerSignal?.aborted) return callerSignal.reason instanceof Error ? callerSignal.reason : new DriverError('Aborted', `${method} ${path} was cancelled`, { cause: err });
  if ((err as { code?: string }).code?.endsWith('TIMEOUT')) { // undici's headers, body or connect timeout
    return new PveTransportError('Timeout', `${method} ${path} on ${origin} got no answer within ${timeoutMs} ms`, { cause: err });
  }
  const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  const detail = err instanceof Error ? err.message : String(err);
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/.test(code)) {
    return new PveTransportError('TLSVerificationFailed', `The TLS certificate of ${origin} was not accepted (${code}: ${detail}). Give the cluster CA in the credentials Secret (spec.tls.caSecretKey) or pin its fingerprint (spec.tls.fingerprintSHA256).`, { cause: err });
  }
  return new PveTransportError('Unreachable', `Proxmox VE at ${origin} is unreachable (${code ?? 'error'}: ${detail})`, { cause: err });
}
