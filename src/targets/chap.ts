// Per-session CHAP credentials: generated when a session asks for CHAP, kept in a Secret the
// session owns, given to the target as an account bound to the session's target only, and put
// in that machine's boot script only. Random per session, so no long-lived secret ever reaches
// a boot script. The alphabet (base64url) needs no quoting in an iPXE script or a tgtadm
// argument; values read back are checked against it before they are used in either.
import { randomBytes } from 'node:crypto';

export interface ChapCredentials {
  username: string;
  password: string;
}

/** Keys of the session's CHAP Secret. */
export const CHAP_USERNAME_KEY = 'username';
export const CHAP_PASSWORD_KEY = 'password';

const USERNAME = /^bp-[0-9a-f]{16}$/;
// 24 base64url characters: 144 random bits, within the 12–16 byte minimum some targets and
// initiators ask of CHAP secrets and far from iPXE's and tgt's upper limits.
const PASSWORD = /^[A-Za-z0-9_-]{24}$/;

export function generateChapCredentials(random: (size: number) => Buffer = randomBytes): ChapCredentials {
  return { username: `bp-${random(8).toString('hex')}`, password: random(18).toString('base64url') };
}

/** The Secret holding a session's credentials: named after the session, in its namespace. */
export function chapSecretName(sessionName: string): string {
  return `${sessionName}-iscsi-chap`;
}

/** Credentials from a Secret's data, or undefined when they are missing or not ours. */
export function parseChapCredentials(data: Record<string, string> | undefined): ChapCredentials | undefined {
  const username = data?.[CHAP_USERNAME_KEY];
  const password = data?.[CHAP_PASSWORD_KEY];
  if (!username || !password || !USERNAME.test(username) || !PASSWORD.test(password)) return undefined;
  return { username, password };
}
