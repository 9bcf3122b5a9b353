/// <reference lib="dom" />
// One VM: conditions as a timeline, Events, the hypervisor's devices, what bootplane would do
// now, and the actions — each previewed as a diff of the object before it is written.
import type { PlannedChange } from '../actions.js';
import type { AssignmentView, AttachmentView, FleetRow, PlannerView } from '../views.js';
import { api, type ApiError } from './api.js';
import { badge, bytes, h, replace } from './dom.js';
import { onChange } from './live.js';

interface Condition { type: string; status: string; reason: string; message: string; lastTransitionTime: string }
interface Detail {
  row: FleetRow;
  manifest: { spec: { bootOrder?: { preset?: string; devices?: string[] }; install?: unknown } };
  status: { conditions: Condition[]; devices: { slot: string; kind: string; volume?: string; sizeBytes?: number }[]; bootOrder: string[]; pendingChanges: string[] };
  attachments: AttachmentView[];
  assignments: AssignmentView[];
  planner: PlannerView;
  hypervisorIsos: { volume: string; sizeBytes?: number }[];
  events: { time: string; type: string; reason: string; note: string; count: number }[];
  eventsError?: string;
}

function describeStep(s: PlannerView['steps'][number]): string {
  switch (s.op) {
    case 'attachIso': return `attach ${s.volume} at ${s.slot}`;
    case 'detachIso': return `take ${s.volume} out of ${s.slot}`;
    case 'swapMedia': return `swap ${s.slot} from ${s.from} to ${s.to}`;
    case 'createCloudInit': return `create the cloud-init drive at ${s.slot}`;
    case 'removeCloudInit': return `remove the cloud-init drive from ${s.slot}`;
    case 'regenerateCloudInit': return 'regenerate the cloud-init image';
    case 'setBootOrder': return `set the boot order to ${s.order.join(', ')} (was ${s.previous.join(', ') || 'none'})`;
  }
}

const PRESETS = ['cdrom_hd', 'hd', 'cdrom', 'hd_cdrom', 'network_hd'];
const SLOTS = ['auto', 'ide0', 'ide1', 'ide2', 'ide3', 'sata0', 'sata1', 'sata2', 'sata3', 'sata4', 'sata5', 'scsi0', 'scsi1', 'scsi2', 'scsi3', 'scsi4', 'scsi5'];

export function vmView(root: HTMLElement, namespace: string, name: string): () => void {
  const key = `${namespace}/${name}`;
  let detail: Detail | undefined;
  let order: string[] = [];
  let orderTouched = false;
  const changePanel = h('div', { class: 'change', 'aria-live': 'polite' });

  async function load(): Promise<void> {
    try {
      detail = await api<Detail>(`/api/vm/${namespace}/${name}`);
      if (!orderTouched) order = initialOrder(detail);
      render();
    } catch (err) {
      replace(root, h('p', { class: 'error', role: 'alert' }, (err as Error).message));
    }
  }

  function initialOrder(d: Detail): string[] {
    const bootable = d.status.devices.map((x) => x.slot);
    const current = d.status.bootOrder.length ? d.status.bootOrder : (d.manifest.spec.bootOrder?.devices ?? []);
    return [...current, ...bootable.filter((s) => !current.includes(s))];
  }

  async function preview(body: Record<string, unknown>): Promise<void> {
    replace(changePanel, h('p', null, 'Working out the change…'));
    try {
      const { change, effect } = await api<{ change: PlannedChange; effect?: PlannerView }>('/api/actions/preview', { method: 'POST', body: { namespace, name, ...body } });
      showChange(change, body, effect);
    } catch (err) {
      showError(err);
    }
  }

  function showChange(change: PlannedChange, body: Record<string, unknown>, effect?: PlannerView): void {
    const lines = change.diff.split('\n').filter(Boolean).map((l) => h('span', { class: l.startsWith('+ ') ? 'add' : l.startsWith('- ') ? 'del' : 'same' }, `${l}\n`));
    const verb = change.operation === 'patch' ? 'Change' : change.operation === 'create' ? 'Create' : 'Delete';
    replace(changePanel,
      h('h3', null, `${verb} ${change.kind} ${change.namespace}/${change.name}`),
      change.gitOps ? h('p', { class: 'warn' }, `Managed by ${change.gitOps.tool} (${change.gitOps.owner}): self-heal would revert a write from here. Commit this change to the repository instead.`) : null,
      h('pre', { class: 'diff', 'aria-label': 'Change as a diff' }, ...lines),
      effect ? h('div', { class: 'effect' }, h('h4', null, 'Then bootplane would'),
        effect.refused ? h('p', { class: 'warn' }, `refuse: ${effect.refused}`)
          : effect.unknown ? h('p', null, effect.unknown)
            : effect.steps.length ? h('ol', { 'data-testid': 'effect' }, ...effect.steps.map((s) => h('li', null, describeStep(s)))) : h('p', null, 'change nothing on the hypervisor.'),
        ...effect.warnings.map((w) => h('p', { class: 'warn' }, w))) : null,
      change.gitOps
        ? h('details', { open: true }, h('summary', null, 'YAML to commit'), h('pre', { class: 'yaml' }, change.after || `# delete ${change.kind} ${change.namespace}/${change.name}`))
        : h('div', { class: 'buttons' },
          h('button', { class: 'primary', onclick: () => void apply(body) }, 'Apply'),
          h('button', { onclick: () => replace(changePanel) }, 'Cancel')));
    (changePanel.querySelector('button.primary') as HTMLButtonElement | null)?.focus();
  }

  async function apply(body: Record<string, unknown>): Promise<void> {
    try {
      const result = await api<{ change: PlannedChange; target: string }>('/api/actions/apply', { method: 'POST', body: { namespace, name, ...body } });
      orderTouched = false;
      replace(changePanel, h('p', { class: 'ok', role: 'status' }, `Written to ${result.target}. The controller converges the VM; this page updates as it does.`));
    } catch (err) {
      showError(err);
    }
  }

  function showError(err: unknown): void {
    const e = err as ApiError;
    const details = e.body?.details as { yaml?: string } | undefined;
    replace(changePanel, h('div', { class: 'refusal', role: 'alert' },
      h('strong', null, e.status === 403 ? 'Refused: ' : e.status === 409 ? 'Not written: ' : 'Error: '), e.message,
      details?.yaml ? h('pre', { class: 'yaml' }, details.yaml) : null));
  }

  function move(index: number, to: number): void {
    if (to < 0 || to >= order.length) return;
    const [slot] = order.splice(index, 1);
    order.splice(to, 0, slot!);
    orderTouched = true;
    render();
    (root.querySelector(`li[data-slot="${slot}"]`) as HTMLElement | null)?.focus();
  }

  function bootOrderEditor(): HTMLElement {
    let dragged = -1;
    const list = h('ol', { class: 'order', 'aria-label': 'Boot order: drag, or focus an item and press Alt+Up / Alt+Down' },
      ...order.map((slot, i) => {
        const device = detail!.status.devices.find((d) => d.slot === slot);
        return h('li', {
          draggable: 'true', tabindex: '0', 'data-slot': slot,
          ondragstart: (e: DragEvent) => { dragged = i; e.dataTransfer?.setData('text/plain', slot); },
          ondragover: (e: DragEvent) => e.preventDefault(),
          ondrop: (e: DragEvent) => { e.preventDefault(); if (dragged >= 0) move(dragged, i); },
          onkeydown: (e: KeyboardEvent) => {
            if (e.altKey && e.key === 'ArrowUp') { e.preventDefault(); move(i, i - 1); }
            if (e.altKey && e.key === 'ArrowDown') { e.preventDefault(); move(i, i + 1); }
            if (e.key === 'Delete') { order.splice(i, 1); orderTouched = true; render(); }
          },
        }, h('span', { class: 'grip', 'aria-hidden': 'true' }, '⋮⋮'), h('code', null, slot), ` ${device?.kind ?? ''} ${device?.volume ?? ''}`,
        h('span', { class: 'moves' },
          h('button', { 'aria-label': `Move ${slot} up`, onclick: () => move(i, i - 1) }, '↑'),
          h('button', { 'aria-label': `Move ${slot} down`, onclick: () => move(i, i + 1) }, '↓'),
          h('button', { 'aria-label': `Remove ${slot} from the boot order`, onclick: () => { order.splice(i, 1); orderTouched = true; render(); } }, '×')));
      }));
    const preset = h('select', { 'aria-label': 'Boot order preset' }, ...PRESETS.map((p) => h('option', { value: p }, p)));
    if (detail!.manifest.spec.bootOrder?.preset) preset.value = detail!.manifest.spec.bootOrder.preset;
    return h('section', { class: 'card' }, h('h2', null, 'Boot order'), list,
      h('div', { class: 'buttons' },
        h('button', { class: 'primary', 'data-action': 'preview-order', onclick: () => void preview({ action: 'bootOrder', devices: order }) }, 'Preview this order'),
        h('button', { onclick: () => { orderTouched = false; order = initialOrder(detail!); render(); } }, 'Reset')),
      h('div', { class: 'buttons' }, h('label', null, 'Preset ', preset),
        h('button', { onclick: () => void preview({ action: 'bootOrder', preset: preset.value }) }, 'Preview preset')));
  }

  function isoEditor(): HTMLElement {
    const volume = h('select', { 'aria-label': 'ISO volume' }, ...detail!.hypervisorIsos.map((i) => h('option', { value: i.volume }, `${i.volume} ${bytes(i.sizeBytes)}`)));
    const slot = h('select', { 'aria-label': 'Slot' }, ...SLOTS.map((s) => h('option', { value: s }, s)));
    const purpose = h('select', { 'aria-label': 'Purpose' }, ...['installer', 'drivers', 'answer', 'rescue'].map((p) => h('option', { value: p }, p)));
    return h('section', { class: 'card' }, h('h2', null, 'ISOs'),
      detail!.attachments.length
        ? h('table', null, h('thead', null, h('tr', null, ...['Attachment', 'Volume', 'Slot', 'Purpose', 'Phase', ''].map((c) => h('th', null, c)))),
          h('tbody', null, ...detail!.attachments.map((a) => h('tr', null, h('td', null, a.name), h('td', null, a.volume), h('td', null, a.slot), h('td', null, a.purpose), h('td', null, badge(a.phase)),
            h('td', null, h('button', { onclick: () => void preview({ action: 'detachIso', attachment: a.name }) }, 'Eject / detach'))))))
        : h('p', null, 'No IsoAttachments.'),
      detail!.hypervisorIsos.length
        ? h('div', { class: 'buttons' }, volume, slot, purpose, h('button', { onclick: () => void preview({ action: 'attachIso', volume: volume.value, slot: slot.value, purpose: purpose.value }) }, 'Preview attach'))
        : h('p', { class: 'muted' }, 'The hypervisor reports no ISO volumes (or you may not read it).'));
  }

  function render(): void {
    const d = detail!;
    const conditions = [...d.status.conditions].sort((a, b) => b.lastTransitionTime.localeCompare(a.lastTransitionTime));
    replace(root, h('section', { class: 'vm' },
      h('p', null, h('a', { href: '#/fleet' }, '← Fleet')),
      h('h1', null, `${d.row.namespace}/${d.row.name} `, badge(d.row.ready), d.row.gitOps ? h('span', { class: 'gitops' }, d.row.gitOps) : null),
      h('dl', { class: 'facts' },
        ...[['Hypervisor', d.row.hypervisor], ['Power', d.row.power], ['Install', `${d.row.installState}${d.row.progress !== undefined ? ` (${d.row.progress}%)` : ''}`], ['Phase', d.row.phase], ['Boot order', d.row.bootOrder], ['Cloud-init slot', d.row.cloudInitSlot]]
          .flatMap(([k, v]) => [h('dt', null, k!), h('dd', null, v || '—')])),
      h('div', { class: 'grid' },
        h('section', { class: 'card' }, h('h2', null, 'Conditions'),
          h('ol', { class: 'timeline' }, ...conditions.map((c) => h('li', null, h('time', null, c.lastTransitionTime), ' ', h('strong', null, c.type), ' ', badge(c.status), ' ', h('em', null, c.reason), h('div', null, c.message))))),
        h('section', { class: 'card' }, h('h2', null, 'What bootplane would do now'),
          d.planner.unknown ? h('p', null, d.planner.unknown) : d.planner.refused ? h('p', { class: 'warn' }, `Refused: ${d.planner.refused}`)
            : d.planner.steps.length === 0 ? h('p', null, 'Nothing: the VM matches its spec.') : h('pre', { class: 'yaml', 'aria-label': 'Planner steps' }, JSON.stringify(d.planner.steps, null, 2)),
          ...d.planner.warnings.map((w) => h('p', { class: 'warn' }, w))),
        h('section', { class: 'card' }, h('h2', null, 'Devices'),
          h('table', null, h('thead', null, h('tr', null, ...['Slot', 'Kind', 'Volume', 'Size'].map((c) => h('th', null, c)))),
            h('tbody', null, ...d.status.devices.map((x) => h('tr', null, h('td', null, x.slot), h('td', null, x.kind), h('td', null, x.volume ?? ''), h('td', null, bytes(x.sizeBytes))))))),
        h('section', { class: 'card' }, h('h2', null, 'Events'),
          d.eventsError ? h('p', { class: 'warn' }, d.eventsError) : null,
          d.events.length ? h('ol', { class: 'events' }, ...d.events.map((e) => h('li', null, h('time', null, e.time), ' ', badge(e.type), ' ', h('strong', null, e.reason), e.count > 1 ? ` ×${e.count}` : '', h('div', null, e.note)))) : h('p', null, 'No recent Events.')),
        bootOrderEditor(),
        h('section', { class: 'card' }, h('h2', null, 'Change'), changePanel),
        isoEditor(),
        h('section', { class: 'card' }, h('h2', null, 'Install and network boot'),
          h('div', { class: 'buttons' },
            h('button', { onclick: () => void preview({ action: 'bootOnceNetwork' }) }, 'Boot once from network'),
            h('button', { onclick: () => void preview({ action: 'markInstalled' }), disabled: !d.manifest.spec.install }, 'Mark installed')),
          d.assignments.length ? h('p', null, `Network boot: ${d.assignments.map((a) => `${a.name} → ${a.profile} (${a.state}, ${a.bootMode})`).join('; ')}`) : null))));
  }

  let timer = 0;
  const stop = onChange((change) => {
    if ((change.kind === 'VirtualMachine' && change.key === key) || (change.kind === 'IsoAttachment' && change.namespace === namespace)) {
      clearTimeout(timer);
      timer = window.setTimeout(() => void load(), 100);
    }
  });
  void load();
  return () => { stop(); clearTimeout(timer); };
}
