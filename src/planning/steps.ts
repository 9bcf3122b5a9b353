// Every step has an inverse, so a multi-step change that fails midway can be rolled back by
// applying the inverses of the applied steps in reverse order.
import type { Step } from './model.js';

export function invert(step: Step): Step {
  switch (step.op) {
    case 'attachIso':
      return { op: 'detachIso', slot: step.slot, volume: step.volume };
    case 'detachIso':
      return { op: 'attachIso', slot: step.slot, volume: step.volume };
    case 'swapMedia':
      return { op: 'swapMedia', slot: step.slot, from: step.to, to: step.from };
    case 'createCloudInit':
      return { op: 'removeCloudInit', slot: step.slot };
    case 'removeCloudInit':
      return { op: 'createCloudInit', slot: step.slot };
    case 'regenerateCloudInit':
      // The image is generated from the config; after a rollback it is generated again from the restored config.
      return { op: 'regenerateCloudInit' };
    case 'setBootOrder':
      return { op: 'setBootOrder', order: step.previous, previous: step.order };
  }
}

/**
 * The inverses of the first `applied` steps of a plan, in the order to run them. A regeneration
 * of the cloud-init image goes last, once the drive it writes to is back.
 */
export function rollbackSteps(steps: readonly Step[], applied = steps.length): Step[] {
  const inverses = steps.slice(0, applied).reverse().map(invert);
  const regenerate = inverses.some((s) => s.op === 'regenerateCloudInit');
  return [...inverses.filter((s) => s.op !== 'regenerateCloudInit'), ...(regenerate ? [{ op: 'regenerateCloudInit' } as const] : [])];
}

/** One line a person can read in an Event, a status entry or the audit log. */
export function describeStep(step: Step): string {
  switch (step.op) {
    case 'attachIso':
      return `attach ISO ${step.volume} at ${step.slot}`;
    case 'detachIso':
      return `detach ISO ${step.volume} from ${step.slot}`;
    case 'swapMedia':
      return `change the medium in ${step.slot} from ${step.from} to ${step.to}`;
    case 'createCloudInit':
      return `create the cloud-init drive at ${step.slot}`;
    case 'removeCloudInit':
      return `remove the cloud-init drive from ${step.slot}`;
    case 'regenerateCloudInit':
      return 'regenerate the cloud-init image';
    case 'setBootOrder':
      return `set the boot order to ${step.order.join(', ') || '(none)'} (was ${step.previous.join(', ') || '(none)'})`;
  }
}
