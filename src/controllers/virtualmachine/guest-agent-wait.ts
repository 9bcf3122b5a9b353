// Pure: the GuestAgentReady condition while bootplane waits for a guest's agent. The wait starts
// when the condition turns False (the VM is seen running and the agent does not answer); its
// lastTransitionTime is the clock, so a controller restart does not restart the wait. After the
// timeout the condition says what to check, and the agent is still asked, less often.
import type { Condition } from '../../api/v1alpha1/common.js';
import type { ConditionUpdate } from '../../kube/conditions.js';

/** While waiting: often enough to notice the agent soon after it starts. */
export const AGENT_POLL_MS = 10_000;
/** After the timeout: keep checking, without a hot loop. */
export const AGENT_RETRY_AFTER_TIMEOUT_MS = 60_000;

export interface AgentWait {
  condition: ConditionUpdate;
  requeueAfterMs: number;
}

export function agentWait(previous: Condition | undefined, timeoutSeconds: number, lastError: { code: string; message: string }, where: string, hypervisorType: 'proxmox' | 'libvirt', now: Date = new Date()): AgentWait {
  const since = previous?.status === 'False' ? Date.parse(previous.lastTransitionTime) : now.getTime();
  const waitedMs = Math.max(0, now.getTime() - since);
  if (waitedMs < timeoutSeconds * 1000) {
    return {
      // No elapsed time in the message: an unchanged observation must not be a new status write.
      condition: { type: 'GuestAgentReady', status: 'False', reason: 'Waiting', message: `Waiting up to ${timeoutSeconds} s (spec.guestAgent.timeoutSeconds) for the QEMU guest agent of ${where}: ${lastError.message}` },
      requeueAfterMs: Math.min(AGENT_POLL_MS, Math.max(1_000, timeoutSeconds * 1000 - waitedMs)),
    };
  }
  const channel = hypervisorType === 'proxmox'
    ? 'the VM option agent is 1 (enabled) and the VM was started after it was set'
    : "the domain has the agent channel (<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>)";
  return {
    condition: {
      type: 'GuestAgentReady', status: 'False', reason: 'Timeout',
      message: `The QEMU guest agent of ${where} did not answer within ${timeoutSeconds} s (spec.guestAgent.timeoutSeconds). Check that ${channel}, that the guest has finished booting, and that qemu-guest-agent is installed and running in it (systemctl status qemu-guest-agent). Last error: ${lastError.message}`,
    },
    requeueAfterMs: AGENT_RETRY_AFTER_TIMEOUT_MS,
  };
}
