import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE, SignInError, TokenAuth } from './auth.js';

const request = (cookie?: string) => ({ headers: cookie ? { cookie } : {} }) as IncomingMessage;

describe('TokenAuth (standalone)', () => {
  it('opens a session for the printed token only, found again by its cookie', async () => {
    const auth = new TokenAuth('a-token-of-enough-length');
    await expect(auth.signIn('another-token-of-length')).rejects.toBeInstanceOf(SignInError);
    const session = await auth.signIn('a-token-of-enough-length');
    expect(session.csrf).not.toBe(session.id);
    expect(auth.session(request(`other=1; ${SESSION_COOKIE}=${session.id}`))).toBe(session);
    expect(auth.session(request(`${SESSION_COOKIE}=forged`))).toBeUndefined();
    auth.signOut(request(`${SESSION_COOKIE}=${session.id}`));
    expect(auth.session(request(`${SESSION_COOKIE}=${session.id}`))).toBeUndefined();
  });

  it('makes a random token when none is given', () => {
    expect(new TokenAuth().token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
