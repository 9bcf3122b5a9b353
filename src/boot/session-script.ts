// The script a machine with an Active DisklessSession gets: sanboot its session's target, LUN 1,
// as the initiator the target admits; if the SAN cannot be opened, the same fallback as every
// other script (the firmware goes on with its next boot device). Values come from the session's
// status, which the controller wrote from validated names; they are checked again here because
// they end up in a script.
import type { DisklessSession } from '../api/v1alpha1/diskless-session.js';

const IQN = /^iqn\.[0-9]{4}-[0-9]{2}\.[A-Za-z0-9.:-]+$/;
const PORTAL = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

export function buildSessionScript(session: DisklessSession): string | undefined {
  const status = session.status;
  const portal = PORTAL.exec(status?.portal ?? '');
  if (!status?.targetIQN || !status.initiatorIQN || !portal || !IQN.test(status.targetIQN) || !IQN.test(status.initiatorIQN)) return undefined;
  const port = portal[2] === '3260' ? '' : portal[2];
  return [
    '#!ipxe',
    `# bootplane: diskless session ${session.metadata.namespace}/${session.metadata.name}`,
    `set initiator-iqn ${status.initiatorIQN}`,
    // iscsi:<server>:<protocol>:<port>:<LUN>:<target>; LUN 0 would be tgt's controller.
    `sanboot iscsi:${portal[1]}::${port}:${status.lun ?? 1}:${status.targetIQN} || goto failed`,
    ':failed',
    'echo bootplane: the session disk could not be opened, the firmware continues with its next boot device in 10 seconds',
    'sleep 10',
    'exit 1',
    '',
  ].join('\n');
}
