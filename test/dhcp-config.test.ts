// Generated DHCP configurations checked by the DHCP servers Debian ships: dnsmasq --test,
// dhcpd -t and kea-dhcp4 -t. A deliberately broken file per tool shows the check can fail.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DHCP_FIXTURE_ASSIGNMENTS, DHCP_FIXTURE_SETTINGS } from '../src/boot/dhcp/fixtures.js';
import { renderDhcpConfig } from '../src/boot/dhcp/render.js';

function check(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }));
  });
}

const TOOLS = {
  dnsmasq: (file: string) => check('dnsmasq', ['--test', `--conf-file=${file}`]),
  isc: (file: string) => check('dhcpd', ['-t', '-cf', file]),
  kea: (file: string) => check('kea-dhcp4', ['-t', file]),
} as const;

const BROKEN = { dnsmasq: 'dhcp-boot=tag:ipxe\n', isc: 'host x {\n  hardware ethernet zz;\n}\n', kea: '{"Dhcp4": {"no-such-key": 1}}\n' } as const;

describe('DHCP configuration accepted by the real servers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dhcp-'));
  for (const vendor of ['dnsmasq', 'isc', 'kea'] as const) {
    it(`${vendor} accepts the generated file and rejects a broken one`, async () => {
      const file = join(dir, `${vendor}.conf`);
      writeFileSync(file, renderDhcpConfig(vendor, DHCP_FIXTURE_SETTINGS, DHCP_FIXTURE_ASSIGNMENTS).body);
      const ok = await TOOLS[vendor](file);
      expect(ok.output).not.toMatch(/error/i);
      expect(ok.code).toBe(0);
      const broken = join(dir, `${vendor}-broken.conf`);
      writeFileSync(broken, BROKEN[vendor]);
      expect((await TOOLS[vendor](broken)).code).not.toBe(0);
    });
  }
});
