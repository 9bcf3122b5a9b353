/// <reference lib="dom" />
// Fleet: every VirtualMachine in one virtualized table. Only the rows in view (plus a margin)
// exist in the DOM, so 10,000 VMs cost what 40 do; filters and search re-slice an array.
import type { FleetRow } from '../views.js';
import { api } from './api.js';
import { badge, h, replace } from './dom.js';
import { onChange } from './live.js';

const ROW_HEIGHT = 34;
const OVERSCAN = 8;
const COLUMNS: { key: keyof FleetRow; label: string }[] = [
  { key: 'name', label: 'Name' }, { key: 'namespace', label: 'Namespace' }, { key: 'hypervisor', label: 'Hypervisor' },
  { key: 'power', label: 'Power' }, { key: 'installState', label: 'Install' }, { key: 'phase', label: 'Phase' },
  { key: 'bootOrder', label: 'Boot order' }, { key: 'isos', label: 'ISOs by slot' }, { key: 'cloudInitSlot', label: 'Cloud-init' },
  { key: 'ready', label: 'Ready' }, { key: 'lastEvent', label: 'Last change' },
];

export function fleetView(root: HTMLElement): () => void {
  const rows = new Map<string, FleetRow>();
  let shown: FleetRow[] = [];
  const filter = { namespace: '', hypervisor: '', state: '', search: '' };

  const namespaceSelect = h('select', { 'aria-label': 'Namespace', onchange: () => { filter.namespace = namespaceSelect.value; refilter(); } });
  const hypervisorSelect = h('select', { 'aria-label': 'Hypervisor', onchange: () => { filter.hypervisor = hypervisorSelect.value; refilter(); } });
  const stateSelect = h('select', { 'aria-label': 'State', onchange: () => { filter.state = stateSelect.value; refilter(); } },
    ...['', 'Ready', 'Not ready', 'Installing', 'Installed', 'InstallationFailed', 'Running', 'Stopped'].map((s) => h('option', { value: s }, s || 'any state')));
  const search = h('input', { type: 'search', placeholder: 'Search name, ISO, event…', 'aria-label': 'Search', oninput: () => { filter.search = search.value.toLowerCase(); refilter(); } });
  const count = h('span', { class: 'count', 'aria-live': 'polite' });
  const body = h('div', { class: 'vbody', role: 'rowgroup' });
  const spacer = h('div', { class: 'vspacer' });
  const scroller = h('div', { class: 'vscroll', tabindex: '0', 'aria-label': 'Virtual machines' }, spacer, body);
  const header = h('div', { class: 'vrow vhead', role: 'row' }, ...COLUMNS.map((c) => h('div', { role: 'columnheader', class: `c-${c.key}` }, c.label)));
  replace(root,
    h('section', { class: 'fleet' },
      h('h1', null, 'Fleet'),
      h('div', { class: 'filters' }, namespaceSelect, hypervisorSelect, stateSelect, search, count),
      h('div', { class: 'vtable', role: 'table', 'aria-label': 'Virtual machines' }, header, scroller)));

  let frame = 0;
  const schedule = (fn: () => void) => {
    if (frame) return;
    frame = requestAnimationFrame(() => { frame = 0; fn(); });
  };

  function options(select: HTMLSelectElement, values: Set<string>, any: string): void {
    const current = select.value;
    const sorted = [...values].sort();
    if (select.options.length === sorted.length + 1 && sorted.every((v, i) => select.options[i + 1]!.value === v)) return;
    replace(select, h('option', { value: '' }, any), ...sorted.map((v) => h('option', { value: v }, v)));
    select.value = current;
  }

  function matches(r: FleetRow): boolean {
    if (filter.namespace && r.namespace !== filter.namespace) return false;
    if (filter.hypervisor && r.hypervisor !== filter.hypervisor) return false;
    switch (filter.state) {
      case 'Ready': if (r.ready !== 'True') return false; break;
      case 'Not ready': if (r.ready === 'True') return false; break;
      case 'Installing': case 'Installed': case 'InstallationFailed': if (r.installState !== filter.state) return false; break;
      case 'Running': case 'Stopped': if (r.power !== filter.state) return false; break;
    }
    if (filter.search) {
      const text = `${r.name} ${r.namespace} ${r.hypervisor} ${r.isos} ${r.lastEvent} ${r.bootOrder}`.toLowerCase();
      if (!text.includes(filter.search)) return false;
    }
    return true;
  }

  function refilter(): void {
    shown = [...rows.values()].filter(matches).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    const namespaces = new Set<string>();
    const hypervisors = new Set<string>();
    for (const r of rows.values()) {
      namespaces.add(r.namespace);
      hypervisors.add(r.hypervisor);
    }
    options(namespaceSelect, namespaces, 'all namespaces');
    options(hypervisorSelect, hypervisors, 'all hypervisors');
    count.textContent = `${shown.length} of ${rows.size} VMs`;
    spacer.style.height = `${shown.length * ROW_HEIGHT}px`;
    paint();
  }

  function cell(r: FleetRow, key: keyof FleetRow): Node | string {
    if (key === 'name') return h('a', { href: `#/vm/${r.namespace}/${r.name}` }, r.name, r.gitOps ? h('span', { class: 'gitops', title: `managed by ${r.gitOps}` }, r.gitOps) : null);
    if (key === 'ready') return badge(r.ready);
    if (key === 'power') return badge(r.power);
    if (key === 'installState') {
      if (r.installState === '—') return '—';
      return h('span', null, badge(r.installState), r.progress !== undefined ? h('progress', { max: '100', value: String(r.progress), 'aria-label': 'install progress' }) : null);
    }
    return String(r[key] ?? '');
  }

  function paint(): void {
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil((scroller.clientHeight || 800) / ROW_HEIGHT) + OVERSCAN * 2;
    const slice = shown.slice(first, first + visible);
    body.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    replace(body, ...slice.map((r) => h('div', { class: 'vrow', role: 'row', 'data-key': r.key },
      ...COLUMNS.map((c) => h('div', { role: 'cell', class: `c-${c.key}`, title: c.key === 'lastEvent' || c.key === 'isos' ? String(r[c.key] ?? '') : null }, cell(r, c.key))))));
  }

  scroller.addEventListener('scroll', () => schedule(paint), { passive: true });
  window.addEventListener('resize', onResize);
  function onResize(): void { schedule(paint); }

  const stop = onChange((change) => {
    if (change.kind !== 'VirtualMachine') return;
    if (change.type === 'delete') rows.delete(change.key);
    else rows.set(change.key, change.item as FleetRow);
    schedule(refilter);
  });

  const started = performance.now();
  api<{ rows: FleetRow[] }>('/api/fleet').then((data) => {
    for (const r of data.rows) rows.set(r.key, r);
    refilter();
    // For the benchmark and tests: when the first screen of rows is in the DOM.
    document.body.dataset.fleetRendered = String(rows.size);
    document.body.dataset.fleetRenderMs = String(Math.round(performance.now() - started));
    performance.mark('fleet-rendered');
  }).catch((err: Error) => replace(body, h('p', { class: 'error', role: 'alert' }, err.message)));

  return () => {
    stop();
    window.removeEventListener('resize', onResize);
    delete document.body.dataset.fleetRendered;
  };
}
