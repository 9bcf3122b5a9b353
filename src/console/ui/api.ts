/// <reference lib="dom" />
// Calls to the console's own JSON API (never to the Kubernetes API server): cookies carry the
// session, writes carry the CSRF token the server handed out with /api/me.
export interface Me { user: string; mode: 'cluster' | 'standalone'; csrf: string }

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly body: { error?: string; details?: unknown }) {
    super(message);
  }
}

let csrf = '';
export function setCsrf(token: string): void { csrf = token; }

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    credentials: 'same-origin',
    headers: init.body !== undefined ? { 'content-type': 'application/json', 'x-csrf-token': csrf } : { 'x-csrf-token': csrf },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  const body = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) as Record<string, unknown> : { text };
  if (!res.ok) throw new ApiError(res.status, String((body as { error?: string }).error ?? text ?? res.statusText), body as { error?: string });
  return body as T;
}

export async function apiText(path: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(path, { credentials: 'same-origin' });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
