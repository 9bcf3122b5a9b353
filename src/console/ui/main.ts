/// <reference lib="dom" />
// The console page: sign-in (cluster mode), the header, the live stream and a hash router.
import { api, ApiError, setCsrf, type Me } from './api.js';
import { bootView } from './boot.js';
import { h, replace } from './dom.js';
import { fleetView } from './fleet.js';
import { hypervisorsView } from './hypervisors.js';
import { connectLive } from './live.js';
import { vmView } from './vm.js';

const app = document.getElementById('app')!;
const THEMES = ['auto', 'light', 'dark'] as const;

function applyTheme(theme: string): void {
  if (theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

function signInForm(message?: string): void {
  const token = h('textarea', { id: 'token', rows: '4', 'aria-label': 'Bearer token', placeholder: 'kubectl create token <serviceaccount>, or your OIDC id_token' });
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  replace(app, h('main', { class: 'signin' }, h('h1', null, 'bootplane console'),
    h('form', { onsubmit: async (e: Event) => {
      e.preventDefault();
      try {
        const me = await api<Me>('/api/session', { method: 'POST', body: { token: token.value } });
        setCsrf(me.csrf);
        start(me);
      } catch (err) {
        error.textContent = (err as Error).message;
      }
    } },
    h('label', { for: 'token' }, 'Sign in with your Kubernetes bearer token. What you see and may change is what your RBAC allows.'), token,
    h('button', { class: 'primary', type: 'submit' }, 'Sign in')), error));
  token.focus();
}

function start(me: Me): void {
  const main = h('main', { id: 'main', tabindex: '-1' });
  const live = h('span', { class: 'live', 'aria-live': 'polite' }, 'connecting…');
  const theme = h('select', { 'aria-label': 'Theme', onchange: () => { localStorage.setItem('theme', theme.value); applyTheme(theme.value); } },
    ...THEMES.map((t) => h('option', { value: t }, t)));
  theme.value = localStorage.getItem('theme') ?? 'auto';
  const nav = h('nav', { 'aria-label': 'Views' },
    h('a', { href: '#/fleet' }, 'Fleet'), h('a', { href: '#/boot' }, 'Network boot'), h('a', { href: '#/hypervisors' }, 'Hypervisors'));
  replace(app,
    h('a', { class: 'skip', href: '#main', onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, 'Skip to content'),
    h('header', null, h('strong', { class: 'brand' }, 'bootplane'), nav, h('span', { class: 'spacer' }), live,
      h('span', { class: 'user', title: me.mode === 'cluster' ? 'Kubernetes user' : 'standalone' }, me.user), theme,
      h('button', { onclick: async () => { await api('/api/signout', { method: 'POST', body: {} }); location.reload(); } }, 'Sign out')),
    main);
  let stop: (() => void) | undefined;
  let lost = false;
  connectLive((state) => {
    live.textContent = state === 'open' ? '● live' : '○ reconnecting';
    live.className = `live ${state}`;
    // Changes made while the stream was down were never sent: load the view afresh.
    if (state === 'error') lost = true;
    else if (lost) {
      lost = false;
      route();
    }
  });
  const route = () => {
    stop?.();
    const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    for (const a of nav.querySelectorAll('a')) a.toggleAttribute('aria-current', a.getAttribute('href') === `#/${parts[0] || 'fleet'}`);
    if (parts[0] === 'vm' && parts[1] && parts[2]) stop = vmView(main, parts[1], parts[2]);
    else if (parts[0] === 'boot') stop = bootView(main);
    else if (parts[0] === 'hypervisors') stop = hypervisorsView(main);
    else stop = fleetView(main);
  };
  window.addEventListener('hashchange', route);
  route();
}

applyTheme(localStorage.getItem('theme') ?? 'auto');
api<Me>('/api/me').then((me) => {
  setCsrf(me.csrf);
  start(me);
}).catch((err: unknown) => {
  if (err instanceof ApiError && err.status === 401) signInForm();
  else replace(app, h('p', { class: 'error', role: 'alert' }, String((err as Error).message)));
});
