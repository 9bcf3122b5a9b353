// Golden DHCP configurations for every vendor (the real servers check them under test/).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DHCP_FIXTURE_ASSIGNMENTS, DHCP_FIXTURE_SETTINGS } from './fixtures.js';
import { DHCP_VENDORS, DhcpConfigError } from './model.js';
import { defaultDhcpSettings, renderDhcpConfig } from './render.js';

const EXT = { mikrotik: 'rsc', dnsmasq: 'conf', isc: 'conf', kea: 'json' } as const;

describe('DHCP configuration (golden)', () => {
  for (const vendor of DHCP_VENDORS) {
    it(vendor, () => {
      const body = renderDhcpConfig(vendor, DHCP_FIXTURE_SETTINGS, DHCP_FIXTURE_ASSIGNMENTS).body;
      const file = join(import.meta.dirname, 'testdata', `${vendor}.${EXT[vendor]}`);
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, body);
      expect(body).toBe(readFileSync(file, 'utf8'));
      expect(body).toContain('http://192.0.2.1:8082/boot.ipxe');
      expect(body).not.toContain('52:54:00:12:34:58');
    });
  }

  it('refuses settings that would break the file, naming the field', () => {
    for (const [field, overrides] of [
      ['serverUrl', { serverUrl: 'http://x/"; evil' }],
      ['nextServer', { nextServer: '192.0.2.1; evil' }],
      ['uefiBootFile', { uefiBootFile: 'a"b' }],
    ] as const) {
      try {
        renderDhcpConfig('isc', { ...defaultDhcpSettings('http://192.0.2.1:8082'), ...overrides }, []);
        throw new Error('expected a refusal');
      } catch (err) {
        expect(err).toBeInstanceOf(DhcpConfigError);
        expect((err as DhcpConfigError).field).toBe(field);
      }
    }
  });
});
