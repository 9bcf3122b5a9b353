// Who is at the console, and what they may see. Standalone: whoever holds the token printed at
// start. Cluster: a person signs in with their own Kubernetes bearer token; the API server says
// who they are (SelfSubjectReview) and whether they may read something (SelfSubjectAccessReview,
// made with their token, so it is their RBAC that answers); the console never lends its own rights.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { KubeClient } from '../kube/client.js';
import { KubeApiError } from '../kube/errors.js';

export const SESSION_COOKIE = 'bootplane_console';
const SESSION_TTL_MS = 8 * 3600_000;
const REVIEW_CACHE_MS = 10_000;
const MAX_SESSIONS = 10_000;

export interface Session {
  id: string;
  /** The person as the API server names them, or "console token" standalone. */
  user: string;
  groups: string[];
  /** Cluster mode: the person's bearer token, held in memory only, never sent back. */
  token?: string;
  /** Sent back on every write in a header: a page on another site cannot read it (CSRF). */
  csrf: string;
  expiresAt: number;
  reviews: Map<string, { allowed: boolean; at: number }>;
}

export class SignInError extends Error {
  readonly code = 'SignInError';
  constructor(readonly status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface ReadCheck {
  resource: string; // plural: virtualmachines, hypervisors, ...
  verb: 'get' | 'list' | 'watch';
  namespace?: string;
  name?: string;
  group?: string;
}

export interface ConsoleAuth {
  readonly mode: 'cluster' | 'standalone';
  /** Makes a session from what the person presented; throws SignInError when it is not valid. */
  signIn(token: string): Promise<Session>;
  session(req: IncomingMessage): Session | undefined;
  signOut(req: IncomingMessage): void;
  canRead(session: Session, check: ReadCheck): Promise<boolean>;
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

abstract class SessionTable {
  private readonly sessions = new Map<string, Session>();

  protected open(user: string, groups: string[], token?: string): Session {
    if (this.sessions.size >= MAX_SESSIONS) this.prune();
    const session: Session = {
      id: randomBytes(24).toString('base64url'),
      user,
      groups,
      ...(token ? { token } : {}),
      csrf: randomBytes(24).toString('base64url'),
      expiresAt: Date.now() + SESSION_TTL_MS,
      reviews: new Map(),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  session(req: IncomingMessage): Session | undefined {
    const id = cookieValue(req, SESSION_COOKIE);
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return undefined;
    if (session.expiresAt < Date.now()) {
      this.sessions.delete(session.id);
      return undefined;
    }
    return session;
  }

  signOut(req: IncomingMessage): void {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id) this.sessions.delete(id);
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (s.expiresAt < now) this.sessions.delete(id);
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
  }
}

/** Standalone: one operator token; whoever holds it sees and edits the site. */
export class TokenAuth extends SessionTable implements ConsoleAuth {
  readonly mode = 'standalone';
  readonly token: string;

  constructor(token?: string) {
    super();
    this.token = token ?? randomBytes(24).toString('base64url');
  }

  async signIn(token: string): Promise<Session> {
    if (!sameSecret(token, this.token)) throw new SignInError(401, 'that is not the console token this process printed at start (or BOOTPLANE_CONSOLE_TOKEN)');
    return this.open('console token', []);
  }

  async canRead(): Promise<boolean> { return true; }
}

interface SelfSubjectReview {
  status?: { userInfo?: { username?: string; groups?: string[] } };
}

interface AccessReview {
  status?: { allowed?: boolean };
}

/** Cluster: every person with their own token and their own RBAC. */
export class KubeTokenAuth extends SessionTable implements ConsoleAuth {
  readonly mode = 'cluster';

  constructor(private readonly client: KubeClient) {
    super();
  }

  async signIn(token: string): Promise<Session> {
    if (!/^[A-Za-z0-9._~+/=-]{16,8192}$/.test(token)) throw new SignInError(400, 'a bearer token is one line of base64url text (a ServiceAccount token or the id_token of your OIDC login)');
    let review: SelfSubjectReview;
    try {
      review = await this.client.requestAs<SelfSubjectReview>(token, '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        method: 'POST',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 401) throw new SignInError(401, 'the API server does not accept this token (expired, revoked, or for another cluster)', { cause: err });
      throw new SignInError(502, 'the API server could not be asked who this token belongs to', { cause: err });
    }
    const user = review.status?.userInfo?.username;
    if (!user) throw new SignInError(401, 'the API server did not name a user for this token');
    return this.open(user, review.status?.userInfo?.groups ?? [], token);
  }

  async canRead(session: Session, check: ReadCheck): Promise<boolean> {
    const key = `${check.verb} ${check.group ?? 'bootplane.io'} ${check.resource} ${check.namespace ?? '*'} ${check.name ?? ''}`;
    const cached = session.reviews.get(key);
    if (cached && Date.now() - cached.at < REVIEW_CACHE_MS) return cached.allowed;
    const review = await this.client.requestAs<AccessReview>(session.token!, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      method: 'POST',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { group: check.group ?? 'bootplane.io', resource: check.resource, verb: check.verb, ...(check.namespace ? { namespace: check.namespace } : {}), ...(check.name ? { name: check.name } : {}) } },
      },
    });
    const allowed = review.status?.allowed === true;
    if (session.reviews.size > 2000) session.reviews.clear();
    session.reviews.set(key, { allowed, at: Date.now() });
    return allowed;
  }
}
