/// <reference lib="dom" />
// Hypervisors: connectivity, version, nodes, storage and the ISO volumes on it.
import type { HypervisorView } from '../views.js';
import { api } from './api.js';
import { badge, bytes, h, replace } from './dom.js';
import { onChange } from './live.js';

export function hypervisorsView(root: HTMLElement): () => void {
  async function render(): Promise<void> {
    const { hypervisors } = await api<{ hypervisors: HypervisorView[] }>('/api/hypervisors');
    replace(root, h('section', { class: 'hypervisors' }, h('h1', null, 'Hypervisors'),
      hypervisors.length === 0 ? h('p', null, 'No Hypervisors (or you may not list them).') : null,
      ...hypervisors.map((hv) => h('section', { class: 'card', 'data-hypervisor': hv.name },
        h('h2', null, `${hv.name} `, badge(hv.reachable), ' ', h('small', null, hv.type)),
        h('dl', { class: 'facts' }, h('dt', null, 'Endpoint'), h('dd', null, hv.endpoint), h('dt', null, 'Version'), h('dd', null, hv.version || '—'),
          h('dt', null, 'Connectivity'), h('dd', null, `${hv.reason} ${hv.message}`),
          h('dt', null, 'Nodes'), h('dd', null, hv.nodes.map((n) => `${n.name} (${n.online ? 'online' : 'offline'})`).join(', ') || '—')),
        h('h3', null, 'Storage'),
        h('table', null, h('thead', null, h('tr', null, ...['Name', 'Node', 'Type', 'Content', 'Used', 'Total'].map((c) => h('th', null, c)))),
          h('tbody', null, ...hv.storages.map((s) => {
            const used = s.totalBytes !== undefined && s.availableBytes !== undefined ? s.totalBytes - s.availableBytes : undefined;
            return h('tr', null, h('td', null, s.name), h('td', null, s.node ?? ''), h('td', null, s.type ?? ''), h('td', null, (s.content ?? []).join(', ')),
              h('td', null, used !== undefined ? h('span', null, h('meter', { min: '0', max: String(s.totalBytes), value: String(used) }), ` ${bytes(used)}`) : ''), h('td', null, bytes(s.totalBytes)));
          }))),
        h('h3', null, 'ISO volumes'),
        hv.isos.length ? h('ul', { class: 'isos' }, ...hv.isos.map((i) => h('li', null, h('code', null, i.volume), ` ${bytes(i.sizeBytes)}`))) : h('p', null, 'None reported.')))));
  }
  let timer = 0;
  const stop = onChange((c) => {
    if (c.kind !== 'Hypervisor') return;
    clearTimeout(timer);
    timer = window.setTimeout(() => void render(), 150);
  });
  void render().catch((err: Error) => replace(root, h('p', { class: 'error', role: 'alert' }, err.message)));
  return () => { stop(); clearTimeout(timer); };
}
