import { describe, expect, it } from 'vitest';
import { formatUpid, parseUpid, taskExitIsError } from './upid.js';

describe('UPID', () => {
  it('parses the documented example and prints it back unchanged', () => {
    const text = 'UPID:pve:0000C530:0001A9C4:6630F00D:qmstart:100:root@pam:';
    const u = parseUpid(text);
    expect(u).toEqual({ node: 'pve', pid: 0xc530, pstart: 0x1a9c4, starttime: 0x6630f00d, type: 'qmstart', id: '100', user: 'root@pam' });
    expect(formatUpid(u!)).toBe(text);
  });

  it('accepts an empty id and a token user, and refuses a missing trailing colon', () => {
    expect(parseUpid('UPID:node-1:00000001:00000002:00000003:aptupdate::root@pam!ci:')?.id).toBe('');
    expect(parseUpid('UPID:node-1:00000001:00000002:00000003:aptupdate::root@pam!ci:')?.user).toBe('root@pam!ci');
    expect(parseUpid('UPID:pve:0000C530:0001A9C4:6630F00D:qmstart:100:root@pam')).toBeUndefined();
    expect(parseUpid('not a upid')).toBeUndefined();
  });

  it('treats only OK and WARNINGS as success', () => {
    expect(taskExitIsError('OK')).toBe(false);
    expect(taskExitIsError('WARNINGS: 2')).toBe(false);
    expect(taskExitIsError('VM 100 already running')).toBe(true);
    expect(taskExitIsError('unexpected status')).toBe(true);
  });
});
