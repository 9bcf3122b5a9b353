import { describe, expect, it } from 'vitest';
import type { DesiredMedia } from '../../planning/model.js';
import { planMedia } from '../../planning/plan-media.js';
import { rollbackSteps } from '../../planning/steps.js';
import { observedVmFromPveConfig, type PveVmConfig } from './config.js';
import { inferVmid, planToPveWrites, PveWritesError, type PveRequest } from './plan-writes.js';

const base: PveVmConfig = {
  boot: 'order=scsi0;net0',
  digest: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  machine: 'q35',
  name: 'okd-master-0',
  net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0',
  scsi0: 'local-lvm:vm-210-disk-0,iothread=1,size=120G',
  ide0: 'local-lvm:vm-210-disk-1,size=8G',
  ide2: 'local-lvm:vm-210-cloudinit,media=cdrom',
};

/** What a stopped VM's config looks like after these requests, as far as drives and boot go. */
function applyLikePve(config: PveVmConfig, requests: PveRequest[]): PveVmConfig {
  const next: PveVmConfig = { ...config };
  for (const request of requests) {
    if (request.method === 'PUT') continue;
    for (const key of request.params.delete?.split(',') ?? []) delete next[key];
    for (const [key, value] of Object.entries(request.params)) {
      if (key === 'delete' || key === 'digest') continue;
      const cloudInit = /^([^:]+):cloudinit$/.exec(value);
      if (cloudInit && Object.values(next).some((v) => typeof v === 'string' && /cloudinit/.test(v))) throw new Error('a second cloud-init drive');
      next[key] = cloudInit ? `${cloudInit[1]}:vm-210-cloudinit,media=cdrom` : value;
    }
  }
  return next;
}

function writes(config: PveVmConfig, desired: DesiredMedia) {
  const plan = planMedia(observedVmFromPveConfig(config, { power: 'Stopped' }), desired);
  return planToPveWrites(plan, config, { node: 'pve1' });
}

describe('planToPveWrites', () => {
  it('relocating cloud-init for an ISO: delete first, then create + attach + boot order, then regenerate', () => {
    const result = writes(base, { isos: [{ id: 'fcos', volume: 'nfs-iso:iso/fedora-coreos-40-live.x86_64.iso', slot: 'auto', purpose: 'installer', primaryBoot: true }] });
    expect(result).toEqual({
      after: {
        ide2: 'nfs-iso:iso/fedora-coreos-40-live.x86_64.iso,media=cdrom',
        sata0: 'local-lvm:cloudinit',
        boot: 'order=ide2;scsi0;net0',
      },
      delete: [],
      steps: [
        { method: 'POST', path: '/nodes/pve1/qemu/210/config', params: { delete: 'ide2', digest: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' } },
        {
          method: 'POST',
          path: '/nodes/pve1/qemu/210/config',
          params: { sata0: 'local-lvm:cloudinit', ide2: 'nfs-iso:iso/fedora-coreos-40-live.x86_64.iso,media=cdrom', boot: 'order=ide2;scsi0;net0' },
        },
        { method: 'PUT', path: '/nodes/pve1/qemu/210/cloudinit', params: {} },
      ],
      warnings: ['fcos boots with Ignition: the cloud-init drive at sata0 is not used'],
    });
  });

  it('cloud-init keys due with the change go in its last config request, and the image is regenerated once', () => {
    const plan = planMedia(observedVmFromPveConfig(base, { power: 'Stopped' }), { isos: [{ id: 'fcos', volume: 'nfs-iso:iso/fedora-coreos-40-live.x86_64.iso', slot: 'auto', purpose: 'installer', primaryBoot: true }] });
    const keys = { set: { ciuser: 'core', cipassword: 'not-in-after', ipconfig0: 'ip=dhcp' }, delete: ['ipconfig1'] };
    const result = planToPveWrites(plan, base, { node: 'pve1', cloudInitKeys: keys });
    expect(result.steps).toEqual([
      { method: 'POST', path: '/nodes/pve1/qemu/210/config', params: { delete: 'ide2', digest: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' } },
      {
        method: 'POST',
        path: '/nodes/pve1/qemu/210/config',
        params: { sata0: 'local-lvm:cloudinit', ide2: 'nfs-iso:iso/fedora-coreos-40-live.x86_64.iso,media=cdrom', boot: 'order=ide2;scsi0;net0', ciuser: 'core', cipassword: 'not-in-after', ipconfig0: 'ip=dhcp', delete: 'ipconfig1' },
      },
      { method: 'PUT', path: '/nodes/pve1/qemu/210/cloudinit', params: {} },
    ]);
    // The keys are not the plan's: what the plan changes says nothing of them (a password least of all).
    expect(result.after).toEqual(planToPveWrites(plan, base, { node: 'pve1' }).after);
    expect(JSON.stringify([result.after, result.delete, result.warnings])).not.toContain('not-in-after');
  });

  it('cloud-init keys with a change that does not touch the drive: a regeneration is added after it', () => {
    const config = { ...base, ide2: undefined, sata0: 'local-lvm:vm-210-cloudinit,media=cdrom' } as PveVmConfig;
    delete config.ide2;
    const plan = planMedia(observedVmFromPveConfig(config, { power: 'Stopped' }), { isos: [{ id: 'fcos', volume: 'nfs-iso:iso/fedora-coreos-40-live.x86_64.iso', slot: 'auto', purpose: 'installer', primaryBoot: true }] });
    expect(plan.steps.map((s) => s.op)).not.toContain('regenerateCloudInit');
    const result = planToPveWrites(plan, config, { node: 'pve1', cloudInitKeys: { set: { ciuser: 'core' }, delete: [] } });
    expect(result.steps.at(-1)).toEqual({ method: 'PUT', path: '/nodes/pve1/qemu/210/cloudinit', params: {} });
    expect(result.steps.filter((s) => s.path.endsWith('/cloudinit'))).toHaveLength(1);
    expect(result.steps.at(-2)?.params.ciuser).toBe('core');
  });

  it('eject: boot order first, then the delete', () => {
    const config = { ...base, boot: 'order=scsi0;ide3;net0', ide3: 'local:iso/installer.iso,media=cdrom,size=630M' };
    const result = writes(config, { isos: [], eject: [{ slot: 'ide3', volume: 'local:iso/installer.iso' }] });
    expect(result.steps).toEqual([
      { method: 'POST', path: '/nodes/pve1/qemu/210/config', params: { boot: 'order=scsi0;net0', digest: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' } },
      { method: 'POST', path: '/nodes/pve1/qemu/210/config', params: { delete: 'ide3' } },
    ]);
    expect(result.after).toEqual({ boot: 'order=scsi0;net0' });
    expect(result.delete).toEqual(['ide3']);
  });

  it('a medium change keeps the drive\'s other properties and drops the old size', () => {
    const config = { ...base, ide2: 'none,media=cdrom', scsi1: 'local-lvm:vm-210-cloudinit,media=cdrom' };
    const result = writes(config, { isos: [{ id: 'a', volume: 'local:iso/a.iso', slot: 'ide2', purpose: 'rescue', primaryBoot: false }] });
    expect(result.after.ide2).toBe('local:iso/a.iso,media=cdrom');
    expect(result.steps[0]?.params.ide2).toBe('local:iso/a.iso,media=cdrom');
  });

  it('nothing to do writes nothing', () => {
    expect(writes(base, { isos: [] })).toEqual({ after: {}, delete: [], steps: [], warnings: ['fcos boots with Ignition: the cloud-init drive at ide2 is not used'] });
  });

  it('refuses to attach something that is not an ISO volume', () => {
    expect(() => writes(base, { isos: [{ id: 'x', volume: 'local-lvm:vm-210-disk-1', slot: 'sata1', purpose: 'installer', primaryBoot: false }] }))
      .toThrow(PveWritesError);
  });

  it('takes the cloud-init storage from the disk when there is no old drive, or from the option', () => {
    const config = { boot: 'order=scsi0', scsi0: 'ceph-vm:vm-300-disk-0,size=20G', name: 'ubuntu-1' };
    const plan = planMedia(observedVmFromPveConfig(config), { isos: [], cloudInit: { placement: 'auto' } });
    expect(planToPveWrites(plan, config).steps[0]).toEqual({ method: 'POST', path: '/nodes/{node}/qemu/300/config', params: { scsi1: 'ceph-vm:cloudinit' } });
    expect(planToPveWrites(plan, config, { cloudInitStorage: 'local-zfs', vmid: 301 }).after).toEqual({ scsi1: 'local-zfs:cloudinit' });
    expect(() => planToPveWrites(plan, { name: 'x' })).toThrow(/no storage known for the new cloud-init drive/);
  });

  it('the writes of the rollback steps give the config back', () => {
    const desired: DesiredMedia = { isos: [{ id: 'fcos', volume: 'local:iso/fcos.iso', slot: 'ide2', purpose: 'installer', primaryBoot: true }] };
    const plan = planMedia(observedVmFromPveConfig(base), desired);
    const forward = applyLikePve(base, planToPveWrites(plan, base).steps);
    expect(forward.ide2).toBe('local:iso/fcos.iso,media=cdrom');
    expect(forward.sata0).toBe('local-lvm:vm-210-cloudinit,media=cdrom');
    const undo = planToPveWrites({ ...plan, steps: rollbackSteps(plan.steps) }, forward).steps;
    expect(undo.map((r) => `${r.method} ${Object.keys(r.params).sort().join(' ')}`)).toEqual(['POST boot digest', 'POST delete', 'POST ide2', 'PUT ']);
    const back = applyLikePve(forward, undo);
    expect({ ...back, digest: undefined }).toEqual({ ...base, digest: undefined });
  });

  it('infers the vmid from the VM\'s own volumes', () => {
    expect(inferVmid(base)).toBe('210');
    expect(inferVmid({ scsi0: 'local:105/vm-105-disk-0.qcow2' })).toBe('105');
    expect(inferVmid({ name: 'x' })).toBeUndefined();
  });
});
