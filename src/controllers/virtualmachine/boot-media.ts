// Whether the boot order and the media agree: an order that boots from a CD-ROM (presets
// cdrom_hd, cdrom, hd_cdrom, or an explicit slot) while no ISO is in any CD-ROM boots nothing
// from it. That is not an error bootplane can fix (the ISO is the user's to attach), so it is a
// warning condition, and nothing else changes.
import type { ConditionUpdate } from '../../kube/conditions.js';
import type { DesiredMedia, Plan } from '../../planning/model.js';

const CDROM_PRESETS = new Set(['cdrom_hd', 'cdrom', 'hd_cdrom']);

export function bootMediaCondition(desired: DesiredMedia, plan: Plan): ConditionUpdate {
  const order = desired.bootOrder;
  const isos = plan.devices.filter((d) => d.kind === 'cdrom' && d.volume);
  if (order?.preset && CDROM_PRESETS.has(order.preset) && isos.length === 0) {
    return {
      type: 'BootMediaConsistent', status: 'False', reason: 'CdromWithoutIso',
      message: `spec.bootOrder.preset ${order.preset} boots from a CD-ROM, but no ISO is attached: the VM skips it${order.preset === 'cdrom' ? ' and has nothing else to boot' : ''}. Attach one with an IsoAttachment, or choose preset hd.`,
    };
  }
  const emptySlots = (order?.devices ?? []).filter((slot) => {
    const device = plan.devices.find((d) => d.slot === slot);
    return device?.kind === 'cdrom' && !device.volume;
  });
  if (emptySlots.length > 0) {
    return {
      type: 'BootMediaConsistent', status: 'False', reason: 'CdromWithoutIso',
      message: `spec.bootOrder.devices boots from ${emptySlots.join(', ')}, which hold${emptySlots.length === 1 ? 's' : ''} no ISO. Attach one with an IsoAttachment, or take the slot out of the order.`,
    };
  }
  return { type: 'BootMediaConsistent', status: 'True', reason: 'Consistent', message: 'Every CD-ROM the boot order names holds an ISO.' };
}
