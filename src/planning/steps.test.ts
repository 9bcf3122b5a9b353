import { describe, expect, it } from 'vitest';
import type { Step } from './model.js';
import { describeStep, invert, rollbackSteps } from './steps.js';

const every: Step[] = [
  { op: 'attachIso', slot: 'ide2', volume: 'local:iso/a.iso' },
  { op: 'detachIso', slot: 'sata0', volume: 'local:iso/b.iso' },
  { op: 'swapMedia', slot: 'ide2', from: 'none', to: 'local:iso/a.iso' },
  { op: 'createCloudInit', slot: 'scsi1' },
  { op: 'removeCloudInit', slot: 'ide2' },
  { op: 'regenerateCloudInit' },
  { op: 'setBootOrder', order: ['scsi0', 'ide2'], previous: ['scsi0'] },
];

describe('invert', () => {
  it.each(every)('undoes $op and inverting twice gives the step back', (step) => {
    expect(invert(invert(step))).toEqual(step);
    if (step.op !== 'regenerateCloudInit') expect(invert(step)).not.toEqual(step);
  });

  it('pairs each operation with its opposite', () => {
    expect(invert({ op: 'attachIso', slot: 'ide2', volume: 'v' })).toEqual({ op: 'detachIso', slot: 'ide2', volume: 'v' });
    expect(invert({ op: 'removeCloudInit', slot: 'ide2' })).toEqual({ op: 'createCloudInit', slot: 'ide2' });
    expect(invert({ op: 'setBootOrder', order: ['a'], previous: ['b'] })).toEqual({ op: 'setBootOrder', order: ['b'], previous: ['a'] });
  });

  it('rolls back the applied steps, last first', () => {
    const steps: Step[] = [{ op: 'removeCloudInit', slot: 'ide2' }, { op: 'createCloudInit', slot: 'scsi1' }, { op: 'attachIso', slot: 'ide2', volume: 'v' }];
    expect(rollbackSteps(steps, 2)).toEqual([{ op: 'removeCloudInit', slot: 'scsi1' }, { op: 'createCloudInit', slot: 'ide2' }]);
  });

  it('regenerates the cloud-init image last, once the drive is back', () => {
    const steps: Step[] = [{ op: 'removeCloudInit', slot: 'ide2' }, { op: 'createCloudInit', slot: 'scsi1' }, { op: 'regenerateCloudInit' }];
    expect(rollbackSteps(steps)).toEqual([{ op: 'removeCloudInit', slot: 'scsi1' }, { op: 'createCloudInit', slot: 'ide2' }, { op: 'regenerateCloudInit' }]);
  });

  it('describes every step in words', () => {
    expect(every.map(describeStep)).toEqual([
      'attach ISO local:iso/a.iso at ide2',
      'detach ISO local:iso/b.iso from sata0',
      'change the medium in ide2 from none to local:iso/a.iso',
      'create the cloud-init drive at scsi1',
      'remove the cloud-init drive from ide2',
      'regenerate the cloud-init image',
      'set the boot order to scsi0, ide2 (was scsi0)',
    ]);
  });
});
