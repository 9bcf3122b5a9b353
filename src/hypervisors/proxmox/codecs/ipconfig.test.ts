import { describe, expect, it } from 'vitest';
import { formatIpConfig, parseIpConfig } from './ipconfig.js';

describe('pveIpConfigCodec', () => {
  it.each([
    ['ip=dhcp', { ip: 'dhcp', options: {} }],
    ['gw=192.0.2.1,ip=192.0.2.10/24', { ip: '192.0.2.10/24', gw: '192.0.2.1', options: {} }],
    ['gw=192.0.2.1,gw6=2001:db8::1,ip=192.0.2.10/24,ip6=2001:db8::10/64', { ip: '192.0.2.10/24', gw: '192.0.2.1', ip6: '2001:db8::10/64', gw6: '2001:db8::1', options: {} }],
    ['ip6=auto', { ip6: 'auto', options: {} }],
  ])('parses %s and prints it back unchanged', (text, expected) => {
    const config = parseIpConfig(text);
    expect(config).toEqual(expected);
    expect(formatIpConfig(config)).toBe(text);
  });

  it('prints keys in PVE order whatever order they came in', () => {
    expect(formatIpConfig(parseIpConfig('ip=192.0.2.10/24,gw=192.0.2.1'))).toBe('gw=192.0.2.1,ip=192.0.2.10/24');
  });

  it('keeps unknown keys', () => {
    expect(formatIpConfig(parseIpConfig('ip=dhcp,zz=1'))).toBe('ip=dhcp,zz=1');
  });

  it.each([['dhcp', /needs a key/], ['gw=192.0.2.1', /gw requires ip/], ['gw6=::1', /gw6 requires ip6/]])(
    'refuses %j', (text, message) => expect(() => parseIpConfig(text)).toThrow(message));
});
