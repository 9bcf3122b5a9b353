// What makes sessions reconcile: their own changes; another session on the same MAC coming,
// changing phase or going (the second session waits for the first); their assignment's changes
// (its MACs); and the target daemon coming up empty (every session's target is put back).
import { SESSION_ASSIGNMENT_INDEX, SESSION_CLAIM_MAC_INDEX, sessionClaimedMacs } from '../../boot/indexes.js';
import { keyOf } from '../../kube/object.js';
import type { ObjectSource } from '../../kube/source.js';
import type { TargetHost } from '../../targets/host.js';

export function watchDisklessSessions(enqueue: (key: string) => void, sessions: ObjectSource, assignments: ObjectSource, host: TargetHost | undefined): void {
  sessions.on((event, obj, old) => {
    enqueue(keyOf(obj));
    if (event === 'resync') return;
    for (const mac of new Set([...sessionClaimedMacs(obj), ...(old ? sessionClaimedMacs(old) : [])])) {
      for (const other of sessions.cache.byIndex(SESSION_CLAIM_MAC_INDEX, mac)) if (keyOf(other) !== keyOf(obj)) enqueue(keyOf(other));
    }
  });
  assignments.on((event, obj) => {
    if (event === 'resync') return;
    for (const s of sessions.cache.byIndex(SESSION_ASSIGNMENT_INDEX, keyOf(obj))) enqueue(keyOf(s));
  });
  host?.onTableLost(() => {
    for (const key of sessions.cache.keys()) enqueue(key);
  });
}
