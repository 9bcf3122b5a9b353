// DHCP host entries for the machines of Active diskless sessions that have no assignment of
// their own (a session names its machine by MAC alone): while the session lasts, the DHCP
// server sends that machine to the boot server, which answers with the sanboot script. A
// machine that has an assignment is already in the configuration.
import type { DisklessSession } from '../../api/v1alpha1/diskless-session.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import { assignmentMacs, sessionActiveMac } from '../indexes.js';

export function sessionHosts(sessions: Iterable<DisklessSession>, assignments: readonly NodeBootAssignment[]): NodeBootAssignment[] {
  const covered = new Set(assignments.flatMap((a) => assignmentMacs(a)));
  const out: NodeBootAssignment[] = [];
  for (const session of sessions) {
    const [mac] = sessionActiveMac(session);
    if (!mac || covered.has(mac)) continue;
    covered.add(mac);
    // Only what the DHCP renderers read: name, namespace and MAC (host entry bootplane-<ns>-dls-<name>).
    out.push({
      apiVersion: 'bootplane.io/v1alpha1',
      kind: 'NodeBootAssignment',
      metadata: { name: `dls-${session.metadata.name}`, namespace: session.metadata.namespace },
      spec: { mac, profileRef: { name: '' }, bootMode: 'Always', state: 'Enabled' },
    } as NodeBootAssignment);
  }
  return out;
}
