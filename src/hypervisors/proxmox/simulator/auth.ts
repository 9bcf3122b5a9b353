// SIMULATOR ONLY. PVE's two ways in: API tokens (Authorization: PVEAPIToken=user@realm!id=secret,
// no CSRF) and tickets from POST /access/ticket (cookie PVEAuthCookie plus CSRFPreventionToken
// on every non-GET call). Tickets and CSRF tokens have PVE's shapes; they are signed with a
// per-simulator HMAC key instead of the cluster's RSA key.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const TICKET_LIFETIME_S = 2 * 60 * 60;

export type AuthResult =
  | { ok: true; user: string; tokenid?: string; viaTicket: boolean }
  | { ok: false; reason: 'No ticket' | 'Authentication failed!' | 'Permission denied - invalid csrf token' };

export class SimAuth {
  private readonly key = randomBytes(32);
  private readonly tokens = new Map<string, string>();
  private readonly users = new Map<string, string>();
  /** Counts successful logins (tests check tickets are reused). */
  logins = 0;

  addToken(tokenId: string, secret: string): void { this.tokens.set(tokenId, secret); }
  addUser(userid: string, password: string): void { this.users.set(userid, password); }
  revokeToken(tokenId: string): void { this.tokens.delete(tokenId); }

  /** POST /access/ticket: a ticket for a good password (or a still-valid ticket given as password). */
  login(username: string, password: string, realm?: string): { username: string; ticket: string; CSRFPreventionToken: string; cap: Record<string, unknown> } | undefined {
    const userid = username.includes('@') ? username : `${username}@${realm ?? 'pam'}`;
    const renewed = this.verifyTicket(password);
    const ok = (renewed && renewed === userid) || (this.users.has(userid) && safeEqual(this.users.get(userid)!, password));
    if (!ok) return undefined;
    this.logins++;
    const time = Math.floor(Date.now() / 1000).toString(16).toUpperCase().padStart(8, '0');
    const plain = `PVE:${userid.replace(/:/g, '%3A')}:${time}`;
    return { username: userid, ticket: `${plain}::${this.sign(plain)}`, CSRFPreventionToken: this.csrf(userid, time), cap: { vms: { 'VM.Audit': 1 } } };
  }

  authenticate(method: string, headers: IncomingHttpHeaders): AuthResult {
    const cookie = extractAuthValue(headers.cookie, 'PVEAuthCookie');
    const authorization = headers.authorization;
    const ticket = cookie ?? extractAuthValue(authorization, 'PVEAuthCookie');
    if (ticket) {
      const user = this.verifyTicket(ticket);
      if (!user) return { ok: false, reason: 'Authentication failed!' };
      if (method !== 'GET') {
        const csrf = headers.csrfpreventiontoken;
        const time = typeof csrf === 'string' ? csrf.split(':')[0]! : '';
        if (typeof csrf !== 'string' || !safeEqual(csrf, this.csrf(user, time)) || ageSeconds(time) > TICKET_LIFETIME_S) {
          return { ok: false, reason: 'Permission denied - invalid csrf token' };
        }
      }
      return { ok: true, user, viaTicket: true };
    }
    const token = extractAuthValue(authorization, 'PVEAPIToken');
    if (token) {
      const m = /^(.*)=(.*)$/.exec(token);
      const id = m?.[1];
      const secret = m?.[2];
      if (!id || secret === undefined || !/^[^@!\s]+@[^@!\s]+![A-Za-z][A-Za-z0-9.\-_]+$/.test(id)) return { ok: false, reason: 'Authentication failed!' };
      const expected = this.tokens.get(id);
      if (!expected || !safeEqual(expected, secret)) return { ok: false, reason: 'Authentication failed!' };
      const [user, tokenid] = id.split('!') as [string, string];
      return { ok: true, user, tokenid, viaTicket: false };
    }
    return { ok: false, reason: 'No ticket' };
  }

  private verifyTicket(ticket: string): string | undefined {
    const m = /^PVE:([^:]+):([0-9A-F]{8})::(.+)$/.exec(ticket);
    if (!m) return undefined;
    const plain = `PVE:${m[1]}:${m[2]}`;
    if (!safeEqual(this.sign(plain), m[3]!) || ageSeconds(m[2]!) > TICKET_LIFETIME_S) return undefined;
    return m[1]!.replace(/%3A/g, ':');
  }

  private sign(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64');
  }

  private csrf(user: string, time: string): string {
    return `${time}:${createHmac('sha256', this.key).update(`csrf:${time}:${user}`).digest('base64').replace(/=+$/, '')}`;
  }
}

// PVE's extract_auth_value: (?:^|\s)KEY(?:=| )([^;]*), URI-unescaped.
function extractAuthValue(header: string | undefined, key: string): string | undefined {
  if (!header) return undefined;
  const m = new RegExp(`(?:^|\\s)${key}(?:=| )([^;]*)`).exec(header);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

function ageSeconds(hexTime: string): number {
  return Math.floor(Date.now() / 1000) - parseInt(hexTime || '0', 16);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
