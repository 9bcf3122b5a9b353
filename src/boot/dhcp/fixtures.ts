// Assignments and settings shared by the DHCP renderer tests (unit goldens and the validation
// with the real DHCP servers under test/).
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import { defaultDhcpSettings } from './render.js';

const assignment = (name: string, spec: Partial<NodeBootAssignment['spec']>, status?: NodeBootAssignment['status']): NodeBootAssignment => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'NodeBootAssignment', metadata: { name, namespace: 'lab' },
  spec: { profileRef: { name: 'talos' }, bootMode: 'Always', bootOnceEpoch: 0, state: 'Enabled', ...spec }, status,
});

export const DHCP_FIXTURE_ASSIGNMENTS: NodeBootAssignment[] = [
  assignment('cp-1', { mac: '52:54:00:12:34:56', hostname: 'cp-1', ipAddress: '192.0.2.21' }),
  assignment('worker-1', { mac: '52:54:00:12:34:57', hostname: 'worker-1' }),
  assignment('web-vm', { vmRef: { name: 'web' }, ipAddress: '192.0.2.30' }, { macAddresses: ['bc:24:11:00:00:01', 'bc:24:11:00:00:02'] }),
  assignment('by-uuid', { uuid: '4c4c4544-0042-3510-8052-b3c04f4e4e31' }),
  assignment('off', { mac: '52:54:00:12:34:58', state: 'Disabled', ipAddress: '192.0.2.40' }),
];

export const DHCP_FIXTURE_SETTINGS = defaultDhcpSettings('http://192.0.2.1:8082', {
  subnet: { cidr: '192.0.2.0/24', rangeStart: '192.0.2.100', rangeEnd: '192.0.2.200', router: '192.0.2.1' },
});
