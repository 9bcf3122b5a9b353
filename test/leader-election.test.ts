// Two replicas with leader election: only the leader reconciles, and killing it hands over
// within 20 s (lease 15 s, retry 2 s).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControllerProcess } from './support/controller-process.js';
import { condition, createNamespace, eventually, getJson, kubectl, kubectlOk, uniqueName } from './support/kube.js';

let ns: string;
const replicas: ControllerProcess[] = [];

beforeAll(async () => {
  ns = await createNamespace('leader');
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

async function holder(): Promise<string | undefined> {
  const lease = await getJson<{ spec: { holderIdentity?: string } }>(['get', 'lease', '-n', ns, 'bootplane-controller']).catch(() => undefined);
  return lease?.spec.holderIdentity || undefined;
}

const libvirtHv = (name: string) => `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${name}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system"}}\n`;

describe('leader election', () => {
  it('lets only the leader reconcile and hands over within 20 s when the leader is killed', async () => {
    const flags = { 'lease-namespace': ns };
    replicas.push(new ControllerProcess(uniqueName('a'), flags), new ControllerProcess(uniqueName('b'), flags));
    const leaderId = await eventually(holder, 'a lease holder', 60_000);
    const leader = replicas.find((r) => r.identity === leaderId)!;
    const follower = replicas.find((r) => r.identity !== leaderId)!;
    expect(leader).toBeDefined();
    await eventually(async () => follower.has((l) => l.msg === 'cache synced'), 'follower caches synced', 60_000);

    const first = uniqueName('led');
    await kubectlOk(['apply', '-f', '-'], libvirtHv(first));
    await eventually(async () => (await condition(`hv/${first}`, 'Ready')) !== undefined, 'reconciled by the leader');
    // Log lines are written in batches (up to 10 ms apart): they may trail the status write.
    await eventually(async () => leader.reconciled('hypervisor', first), 'the leader logs its reconcile', 10_000);
    expect(follower.reconciled('hypervisor', first)).toBe(false);
    expect(follower.has((l) => l.msg === 'controller started')).toBe(false);

    await leader.kill('SIGKILL');
    const killedAt = Date.now();
    const second = uniqueName('handover');
    await kubectlOk(['apply', '-f', '-'], libvirtHv(second));
    await eventually(async () => (await holder()) === follower.identity, 'follower holds the lease', 30_000);
    await eventually(async () => (await condition(`hv/${second}`, 'Ready')) !== undefined, 'reconciled by the new leader', 30_000);
    // The handover is when the follower says it became leader (its own log timestamp), not when
    // this test's kubectl polling happens to notice: on a loaded machine those differ by seconds.
    const becameLeader = await eventually(async () => follower.lines.find((l) => l.msg === 'became leader'), 'the follower logs that it became leader', 10_000);
    const handover = Date.parse(String(becameLeader!.time)) - killedAt;
    expect(handover).toBeLessThan(20_000);
    await eventually(async () => follower.reconciled('hypervisor', second), 'the new leader logs its reconcile', 10_000);

    // A clean shutdown releases the lease at once.
    await follower.kill('SIGTERM');
    expect(await holder()).toBeUndefined();
    await kubectlOk(['delete', 'hv', first, second, '--wait=false']);
  });
});
