import { describe, expect, it } from 'vitest';
import type { DisklessSession } from '../api/v1alpha1/diskless-session.js';
import { buildSessionScript } from './session-script.js';

function session(status: NonNullable<DisklessSession['status']>): DisklessSession {
  return {
    apiVersion: 'bootplane.io/v1alpha1', kind: 'DisklessSession', metadata: { name: 'lab-1', namespace: 'default' },
    spec: { machine: { mac: '52:54:00:12:34:56' }, image: { path: '/srv/golden.img' }, mode: 'ephemeral', deletePersistentCopy: false, target: { driver: 'tgt', portal: '10.0.2.2:3260' }, chap: false, state: 'Active' },
    status,
  };
}

describe('buildSessionScript', () => {
  it('sanboots LUN 1 of the session target as its initiator, with the fallback', () => {
    expect(buildSessionScript(session({ phase: 'Active', portal: '10.0.2.2:3260', targetIQN: 'iqn.2024-01.io.bootplane:default.lab-1', initiatorIQN: 'iqn.2024-01.io.bootplane:525400123456', lun: 1 }))).toBe(`#!ipxe
# bootplane: diskless session default/lab-1
set initiator-iqn iqn.2024-01.io.bootplane:525400123456
sanboot iscsi:10.0.2.2:::1:iqn.2024-01.io.bootplane:default.lab-1 || goto failed
:failed
echo bootplane: the session disk could not be opened, the firmware continues with its next boot device in 10 seconds
sleep 10
exit 1
`);
  });

  it('puts a non-default port in the URI', () => {
    expect(buildSessionScript(session({ portal: '10.0.2.2:23260', targetIQN: 'iqn.2024-01.io.bootplane:a', initiatorIQN: 'iqn.2024-01.io.bootplane:b' }))).toContain('sanboot iscsi:10.0.2.2::23260:1:iqn.2024-01.io.bootplane:a ');
  });

  it('refuses values that could steer the script', () => {
    expect(buildSessionScript(session({ portal: '10.0.2.2:3260', targetIQN: 'iqn.2024-01.x:a\nshell', initiatorIQN: 'iqn.2024-01.io.bootplane:b' }))).toBeUndefined();
    expect(buildSessionScript(session({ portal: '10.0.2.2:3260 || shell', targetIQN: 'iqn.2024-01.x:a', initiatorIQN: 'iqn.2024-01.io.bootplane:b' }))).toBeUndefined();
  });
});
