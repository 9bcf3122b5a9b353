/// <reference lib="dom" />
// Network boot: assignments, profiles, the exact script a MAC or UUID gets now, and boot
// requests over time from the boot server's own counters.
import type { AssignmentView, ProfileView } from '../views.js';
import { api, apiText } from './api.js';
import { badge, h, replace, svg } from './dom.js';
import { onChange } from './live.js';

interface Sample { at: number; requests: number; failures: number; byProfile: Record<string, number> }
interface BootData { assignments: AssignmentView[]; profiles: ProfileView[]; samples: Sample[] }

function chart(samples: Sample[]): Element {
  const deltas = samples.slice(1).map((s, i) => ({ at: s.at, requests: s.requests - samples[i]!.requests, failures: s.failures - samples[i]!.failures }));
  const width = 600;
  const height = 120;
  const max = Math.max(1, ...deltas.map((d) => d.requests));
  const bar = deltas.length ? width / deltas.length : width;
  const bars = deltas.flatMap((d, i) => [
    svg('rect', { x: i * bar, y: height - (d.requests / max) * height, width: Math.max(1, bar - 1), height: (d.requests / max) * height, class: 'bar-ok' }),
    svg('rect', { x: i * bar, y: height - (d.failures / max) * height, width: Math.max(1, bar - 1), height: (d.failures / max) * height, class: 'bar-bad' }),
  ]);
  const title = svg('title', {});
  title.textContent = `Boot server requests per 10 s (max ${max}); failures in red`;
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title.textContent }, title, ...bars);
}

/** Boots per profile over the sampled window and since the process started. */
function perProfile(samples: Sample[]): Element {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const profiles = Object.keys(last?.byProfile ?? {}).sort();
  if (!last || profiles.length === 0) return h('p', { class: 'muted' }, 'No profile has been booted yet.');
  const minutes = Math.max(1, Math.round((last.at - first!.at) / 60_000));
  return h('table', { class: 'per-profile' },
    h('thead', null, h('tr', null, h('th', null, 'Profile'), h('th', null, `Boots, last ${minutes} min`), h('th', null, 'Boots since start'))),
    h('tbody', null, ...profiles.map((p) => h('tr', null, h('td', null, p), h('td', null, String(last.byProfile[p]! - (first!.byProfile[p] ?? 0))), h('td', null, String(last.byProfile[p]))))),
    h('caption', { class: 'muted' }, `Failures (red in the chart) in the window: ${last.failures - first!.failures}`));
}

export function bootView(root: HTMLElement): () => void {
  const mac = h('input', { type: 'text', placeholder: '52:54:00:be:ef:01', 'aria-label': 'MAC address', name: 'mac' });
  const uuid = h('input', { type: 'text', placeholder: 'SMBIOS UUID (optional)', 'aria-label': 'UUID', name: 'uuid' });
  const firmware = h('select', { 'aria-label': 'Firmware' }, h('option', { value: 'bios' }, 'BIOS'), h('option', { value: 'uefi' }, 'UEFI'));
  const output = h('pre', { class: 'script', 'aria-label': 'Rendered iPXE script', 'data-testid': 'script' });
  const outputInfo = h('p', { class: 'muted' });
  const tables = h('div');

  async function render(): Promise<void> {
    const data = await api<BootData & { stats?: { bootsByProfile: Record<string, number> } }>('/api/boot');
    replace(tables,
      h('section', { class: 'card' }, h('h2', null, 'Boot requests'), chart(data.samples),
        data.samples.length < 2 ? h('p', { class: 'muted' }, 'The console samples the boot server\'s counters every 10 s; bars appear after the second sample.') : null,
        perProfile(data.samples)),
      h('section', { class: 'card' }, h('h2', null, 'Assignments'),
        h('table', null, h('thead', null, h('tr', null, ...['Namespace', 'Name', 'MAC', 'UUID', 'VM', 'Profile', 'State', 'Mode', 'Last boot', 'Boots', 'Ready'].map((c) => h('th', null, c)))),
          h('tbody', null, ...data.assignments.map((a) => h('tr', null, h('td', null, a.namespace), h('td', null, a.name),
            h('td', null, a.mac ? h('a', { href: '#', onclick: (e: Event) => { e.preventDefault(); mac.value = a.mac; void show(); } }, a.mac) : ''),
            h('td', null, a.uuid), h('td', null, a.vm), h('td', null, a.profile), h('td', null, a.state), h('td', null, a.bootMode), h('td', null, a.lastBoot), h('td', null, String(a.bootCount)), h('td', null, badge(a.ready))))))),
      h('section', { class: 'card' }, h('h2', null, 'Profiles'),
        h('table', null, h('thead', null, h('tr', null, ...['Namespace', 'Name', 'Type', 'Public', 'Firmware', 'Ready'].map((c) => h('th', null, c)))),
          h('tbody', null, ...data.profiles.map((p) => h('tr', null, h('td', null, p.namespace), h('td', null, p.name), h('td', null, p.type), h('td', null, p.public ? 'yes' : 'no'), h('td', null, p.firmware), h('td', null, badge(p.ready))))))));
  }

  async function show(): Promise<void> {
    const q = new URLSearchParams({ firmware: firmware.value, serverUrl: location.protocol === 'https:' ? 'https://boot.invalid' : 'http://boot.invalid' });
    if (mac.value.trim()) q.set('mac', mac.value.trim());
    if (uuid.value.trim()) q.set('uuid', uuid.value.trim());
    const res = await apiText(`/api/boot/script?${q}`);
    const body = res.headers.get('content-type')?.includes('json') ? (JSON.parse(res.text) as { error: string }).error : res.text;
    output.textContent = body;
    outputInfo.textContent = res.status === 200
      ? `Answer: ${res.headers.get('x-bootplane-answer')}${res.headers.get('x-bootplane-assignment') ? ` from ${res.headers.get('x-bootplane-assignment')}` : ''}${res.headers.get('x-bootplane-reason') ? ` (${res.headers.get('x-bootplane-reason')})` : ''}. The server URL is shown as http://boot.invalid; signed URLs are never shown.`
      : `HTTP ${res.status}`;
  }

  replace(root, h('section', { class: 'boot' }, h('h1', null, 'Network boot'),
    h('section', { class: 'card' }, h('h2', null, 'Script for a machine'),
      h('form', { class: 'buttons', onsubmit: (e: Event) => { e.preventDefault(); void show(); } }, mac, uuid, firmware, h('button', { class: 'primary', type: 'submit' }, 'Render')),
      outputInfo, output),
    tables));
  let timer = 0;
  const stop = onChange((c) => {
    if (c.kind !== 'NodeBootAssignment' && c.kind !== 'BootProfile') return;
    clearTimeout(timer);
    timer = window.setTimeout(() => void render(), 150);
  });
  void render();
  return () => { stop(); clearTimeout(timer); };
}
