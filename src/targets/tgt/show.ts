// Parses `tgtadm --lld iscsi --mode target --op show`: tgtd keeps nothing on disk and has no
// machine-readable output, so this indented listing is the only account of its table.
import type { TargetConnection, TargetState } from '../driver.js';

export interface TgtTarget extends TargetState {
  tid: number;
}

type Section = 'none' | 'nexus' | 'lun' | 'account' | 'acl';

export function parseTargetShow(text: string): TgtTarget[] {
  const targets: TgtTarget[] = [];
  let current: TgtTarget | undefined;
  let section: Section = 'none';
  let lun: number | undefined;
  let initiator: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const target = /^Target (\d+): (\S+)$/.exec(raw);
    if (target) {
      current = { tid: Number(target[1]), iqn: target[2]!, luns: new Map(), initiators: [], addresses: [], chapUsers: [], connections: [] };
      targets.push(current);
      section = 'none';
      continue;
    }
    if (!current) continue;
    if (line === 'I_T nexus information:') { section = 'nexus'; continue; }
    if (line === 'LUN information:') { section = 'lun'; continue; }
    if (line === 'Account information:') { section = 'account'; continue; }
    if (line === 'ACL information:') { section = 'acl'; continue; }
    if (line === 'System information:') { section = 'none'; continue; }
    switch (section) {
      case 'nexus': {
        const who = /^Initiator: (\S+)/.exec(line);
        if (who) initiator = who[1];
        const ip = /^IP Address: (\S+)$/.exec(line);
        if (ip && initiator) current.connections.push({ initiator, address: ip[1]! } satisfies TargetConnection);
        break;
      }
      case 'lun': {
        const n = /^LUN: (\d+)$/.exec(line);
        if (n) lun = Number(n[1]);
        const path = /^Backing store path: (.+)$/.exec(line);
        if (path && lun !== undefined && path[1] !== 'None') current.luns.set(lun, path[1]!);
        break;
      }
      case 'account': {
        // "user (outgoing)" lines are the target's own credentials for mutual CHAP.
        if (!line.endsWith('(outgoing)')) current.chapUsers.push(line);
        break;
      }
      case 'acl': {
        if (line.startsWith('iqn.') || line.startsWith('eui.') || line.startsWith('naa.')) current.initiators.push(line);
        else current.addresses.push(line);
        break;
      }
      default:
        break;
    }
  }
  return targets;
}
