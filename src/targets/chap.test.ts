import { describe, expect, it } from 'vitest';
import { chapSecretName, generateChapCredentials, parseChapCredentials } from './chap.js';

describe('CHAP credentials', () => {
  it('are random per call and read back from Secret data', () => {
    const a = generateChapCredentials();
    const b = generateChapCredentials();
    expect(a.username).not.toBe(b.username);
    expect(a.password).not.toBe(b.password);
    expect(a.password).toHaveLength(24);
    expect(parseChapCredentials({ username: a.username, password: a.password })).toEqual(a);
  });

  it('refuses data that is missing, or that could steer a script or a tgtadm call', () => {
    const good = generateChapCredentials();
    expect(parseChapCredentials(undefined)).toBeUndefined();
    expect(parseChapCredentials({ username: good.username })).toBeUndefined();
    expect(parseChapCredentials({ username: good.username, password: `${good.password.slice(0, 20)} \${x` })).toBeUndefined();
    expect(parseChapCredentials({ username: 'bp-0123456789abcdef\nshell', password: good.password })).toBeUndefined();
    expect(parseChapCredentials({ username: good.username, password: 'short' })).toBeUndefined();
  });

  it('names the Secret after the session', () => {
    expect(chapSecretName('lab-1')).toBe('lab-1-iscsi-chap');
  });
});
