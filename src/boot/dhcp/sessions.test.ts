import { describe, expect, it } from 'vitest';
import type { DisklessSession } from '../../api/v1alpha1/diskless-session.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import { renderDhcpConfig, defaultDhcpSettings } from './render.js';
import { sessionHosts } from './sessions.js';

const session = (name: string, mac: string, phase: 'Active' | 'Stopped'): DisklessSession => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'DisklessSession', metadata: { name, namespace: 'lab' },
  spec: { machine: { mac }, image: { path: '/srv/golden.img' }, mode: 'ephemeral', deletePersistentCopy: false, target: { driver: 'tgt', portal: '192.0.2.1:3260' }, chap: false, state: 'Active' },
  status: { phase, mac },
});

describe('sessionHosts', () => {
  it('adds the machines of Active sessions only, once, unless an assignment has them', () => {
    const assigned = { metadata: { name: 'a', namespace: 'lab' }, spec: { mac: '52:54:00:00:00:03', profileRef: { name: 'p' } } } as NodeBootAssignment;
    const hosts = sessionHosts([
      session('one', '52:54:00:00:00:01', 'Active'),
      session('two', '52:54:00:00:00:02', 'Stopped'),
      session('three', '52:54:00:00:00:03', 'Active'),
    ], [assigned]);
    expect(hosts.map((h) => [h.metadata.name, h.spec.mac])).toEqual([['dls-one', '52:54:00:00:00:01']]);
    const dnsmasq = renderDhcpConfig('dnsmasq', defaultDhcpSettings('http://192.0.2.1:8082'), hosts).body;
    expect(dnsmasq).toContain('52:54:00:00:00:01');
    expect(dnsmasq).not.toContain('52:54:00:00:00:02');
  });
});
