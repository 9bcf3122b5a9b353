import { describe, expect, it } from 'vitest';
import type { KubeClient, RequestOptions } from './client.js';
import { EventRecorder } from './events.js';
import { silentLogger } from '../observability/logger.js';

/** Records the requests the recorder would send; stands in for the API server. */
function fakeClient() {
  const calls: { path: string; options: RequestOptions }[] = [];
  const client = { request: async (path: string, options: RequestOptions = {}) => { calls.push({ path, options }); return {}; } };
  return { calls, client: client as unknown as KubeClient };
}

const vm = { apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'web', namespace: 'lab', uid: 'u1' } };
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('EventRecorder', () => {
  it('folds a failing loop into one Event series instead of a storm', async () => {
    let now = 1_000_000;
    const { calls, client } = fakeClient();
    const recorder = new EventRecorder(client, 'bootplane.io/controller', 'replica-a', silentLogger(), () => now);
    for (let i = 0; i < 100; i++) {
      recorder.record(vm, 'Warning', 'AttachFailed', 'Attach', 'slot ide2 is taken');
      now += 100; // 100 repeats within 10 s
      await flush();
    }
    expect(calls).toHaveLength(1);
    expect(calls[0]!.options.method).toBe('POST');
    expect(calls[0]!.path).toBe('/apis/events.k8s.io/v1/namespaces/lab/events');
    expect(calls[0]!.options.body).toMatchObject({ type: 'Warning', reason: 'AttachFailed', note: 'slot ide2 is taken', regarding: { kind: 'VirtualMachine', name: 'web', uid: 'u1' } });

    now += 30_000; // the series is patched at most every 30 s, with the running count
    recorder.record(vm, 'Warning', 'AttachFailed', 'Attach', 'slot ide2 is taken');
    await flush();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.options).toMatchObject({ method: 'PATCH', body: { series: { count: 101 } } });
  });

  it('records a different reason or note as its own Event, and starts a new one after the window', async () => {
    let now = 0;
    const { calls, client } = fakeClient();
    const recorder = new EventRecorder(client, 'c', 'i', silentLogger(), () => now);
    recorder.record(vm, 'Normal', 'Attached', 'Attach', 'ide2');
    recorder.record(vm, 'Normal', 'Attached', 'Attach', 'sata0');
    await flush();
    expect(calls.filter((c) => c.options.method === 'POST')).toHaveLength(2);
    now += 11 * 60_000;
    recorder.record(vm, 'Normal', 'Attached', 'Attach', 'ide2');
    await flush();
    expect(calls.filter((c) => c.options.method === 'POST')).toHaveLength(3);
  });
});
