import { describe, expect, it } from 'vitest';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import { readinessChanged, teardownProgress } from './teardown.js';

const vm = (name: string, labels: Record<string, string>, ready: boolean, namespace = 'okd'): VirtualMachine => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace, labels },
  spec: { hypervisorRef: { name: 'pve' }, libvirt: { domainName: name } } as VirtualMachine['spec'],
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'x', message: '', lastTransitionTime: 't' }] },
});
const bootstrap = vm('bootstrap', { role: 'control-plane' }, true);
const teardown = { whenReady: { matchLabels: { role: 'control-plane' }, count: 3 }, action: 'Delete' as const };

describe('teardownProgress', () => {
  it('counts Ready VMs with the labels in the same namespace, never itself', () => {
    const cp = [vm('cp0', { role: 'control-plane' }, true), vm('cp1', { role: 'control-plane' }, true), vm('cp2', { role: 'control-plane' }, false)];
    const elsewhere = vm('cp9', { role: 'control-plane' }, true, 'other');
    const worker = vm('w0', { role: 'worker' }, true);
    expect(teardownProgress(bootstrap, teardown, [bootstrap, ...cp, elsewhere, worker])).toEqual({ ready: 2, due: false });
    cp[2] = vm('cp2', { role: 'control-plane' }, true);
    expect(teardownProgress(bootstrap, teardown, [bootstrap, ...cp, elsewhere, worker])).toEqual({ ready: 3, due: true });
  });

  it('notices readiness flips only', () => {
    expect(readinessChanged(vm('a', {}, false), vm('a', {}, true))).toBe(true);
    expect(readinessChanged(vm('a', {}, true), vm('a', {}, true))).toBe(false);
    expect(readinessChanged(undefined, vm('a', {}, true))).toBe(true);
  });
});
