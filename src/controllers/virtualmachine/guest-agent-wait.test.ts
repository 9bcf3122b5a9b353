import { describe, expect, it } from 'vitest';
import { agentWait } from './guest-agent-wait.js';

const error = { code: 'GuestAgentNotRunning', message: 'QEMU guest agent is not running' };
const now = new Date('2026-01-01T00:10:00Z');

describe('agentWait', () => {
  it('starts waiting now when the condition was not False', () => {
    const w = agentWait(undefined, 300, error, 'VM 100', 'proxmox', now);
    expect(w.condition).toMatchObject({ status: 'False', reason: 'Waiting' });
    expect(w.requeueAfterMs).toBe(10_000);
  });

  it('counts from the time the condition turned False and never polls past the deadline', () => {
    const previous = { type: 'GuestAgentReady', status: 'False' as const, reason: 'Waiting', message: '', lastTransitionTime: '2026-01-01T00:05:03Z' };
    const w = agentWait(previous, 300, error, 'VM 100', 'proxmox', now);
    expect(w.condition.reason).toBe('Waiting');
    expect(w.requeueAfterMs).toBe(3_000);
  });

  it('times out with a message that says what to check, and keeps asking slowly', () => {
    const previous = { type: 'GuestAgentReady', status: 'False' as const, reason: 'Waiting', message: '', lastTransitionTime: '2026-01-01T00:04:00Z' };
    const w = agentWait(previous, 300, error, 'domain x', 'libvirt', now);
    expect(w.condition).toMatchObject({ status: 'False', reason: 'Timeout' });
    expect(w.condition.message).toContain('org.qemu.guest_agent.0');
    expect(w.condition.message).toContain('qemu-guest-agent');
    expect(w.requeueAfterMs).toBe(60_000);
  });
});
