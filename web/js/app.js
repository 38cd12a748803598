// app.js: the console's entry point: login, the page frame, and the
// hash router (#/incidents, #/incidents/<id>, #/alerts, #/channels,
// #/members, #/integrations, #/integrations/<id>, #/history).
//
// Each page module exports functions render(view, params, ctx) that fill a
// fresh <div> (the view) and may register what to stop when the person
// leaves the page (ctx.onLeave: live-refresh timers). A page that is left
// while it is still loading writes into a detached view, which is harmless.
import { call, getKey, setKey, clearKey, onUnauthorized } from './api.js';
import { h, clear, field, errorSlot, showFormError, act } from './ui.js';
import * as incidents from './pages/incidents.js';
import * as alerts from './pages/alerts.js';
import * as channels from './pages/channels.js';
import * as members from './pages/members.js';
import * as integrations from './pages/integrations.js';
import * as history from './pages/history.js';

const NAV = [
  ['#/incidents', 'Incidents'],
  ['#/alerts', 'Alerts'],
  ['#/channels', 'Channels'],
  ['#/members', 'Members'],
  ['#/integrations', 'Integrations'],
  ['#/history', 'History'],
];

// [pattern, page function]; the first match wins.
const ROUTES = [
  [/^\/incidents$/, incidents.list],
  [/^\/incidents\/([0-9a-fA-F]{24})$/, incidents.detail],
  [/^\/alerts$/, alerts.list],
  [/^\/alerts\/([0-9a-fA-F]{24})$/, alerts.detail],
  [/^\/channels$/, channels.list],
  [/^\/channels\/(\d+)$/, channels.detail],
  [/^\/members$/, members.list],
  [/^\/integrations$/, integrations.list],
  [/^\/integrations\/new$/, integrations.create],
  [/^\/integrations\/(\d+)$/, integrations.detail],
  [/^\/history$/, history.list],
];

let leaving = [];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/incidents';
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

function frame() {
  const nav = h('nav', { class: 'nav', 'aria-label': 'Main' },
                h('ul', {}, NAV.map(([href, text]) => h('li', {}, h('a', { href }, text)))));
  const logout = h('button', { type: 'button', class: 'ghost', id: 'logout' }, 'Log out');
  logout.addEventListener('click', () => {
    clearKey();
    location.hash = '#/incidents';
    start();
  });
  const menu = h('button', { type: 'button', class: 'ghost menu-toggle', 'aria-expanded': 'false',
                            'aria-controls': 'nav-list' }, 'Menu');
  nav.querySelector('ul').id = 'nav-list';
  menu.addEventListener('click', () => {
    const open = menu.getAttribute('aria-expanded') !== 'true';
    menu.setAttribute('aria-expanded', String(open));
    nav.classList.toggle('open', open);
  });
  const header = h('header', { class: 'top' },
                   h('a', { class: 'brand', href: '#/incidents' }, h('span', { class: 'bell', 'aria-hidden': 'true' }), 'tocsin'),
                   menu, nav, logout);
  const main = h('main', { id: 'main', tabindex: '-1' });
  clear(document.body, header, main);
  return main;
}

function markNav(path) {
  for (const a of document.querySelectorAll('.nav a')) {
    const here = path.startsWith(a.getAttribute('href').slice(1));
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const nav = document.querySelector('.nav');
  if (nav) nav.classList.remove('open');
  const menu = document.querySelector('.menu-toggle');
  if (menu) menu.setAttribute('aria-expanded', 'false');
}

async function route() {
  leaving.forEach((fn) => fn());
  leaving = [];
  const main = document.getElementById('main');
  if (!main) return;
  const { path, query } = parseHash();
  markNav(path);
  const view = h('div', { class: 'view' });
  main.replaceChildren(view);
  const ctx = { query, onLeave: (fn) => leaving.push(fn) };
  for (const [re, page] of ROUTES) {
    const m = re.exec(path);
    if (m) {
      try {
        await page(view, m.slice(1), ctx);
      } catch (e) {
        view.append(h('p', { class: 'error', role: 'alert' }, h('strong', {}, (e.code || 'Error') + ': '), e.message));
      }
      const heading = view.querySelector('h1');
      document.title = (heading ? heading.textContent + ' · ' : '') + 'tocsin';
      return;
    }
  }
  view.append(h('h1', {}, 'Not found'), h('p', {}, 'No console page at ' + location.hash + '. ', h('a', { href: '#/incidents' }, 'Go to incidents')));
}

function login() {
  const key = h('input', { type: 'password', name: 'app_key', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const slot = errorSlot();
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'login card', novalidate: true },
                 h('h1', {}, h('span', { class: 'bell', 'aria-hidden': 'true' }), 'tocsin'),
                 h('p', { class: 'muted' }, 'Paste an app key to open the console. It is kept in this tab only (session storage).'),
                 field('App key', key), submit, slot);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const k = key.value.trim();
    if (!k) {
      showFormError(form, slot, { code: 'InvalidParameter', message: 'app_key is required' });
      return;
    }
    const ok = await act(submit, slot, async () => {
      await call('/channel/list', {}, k);
      return true;
    }, form);
    if (ok) {
      setKey(k);
      start();
    }
  });
  clear(document.body, h('main', { id: 'main', class: 'login-wrap' }, form));
  document.title = 'Sign in · tocsin';
  key.focus();
}

function start() {
  if (!getKey()) {
    login();
    return;
  }
  const main = frame();
  route().then(() => main.focus({ preventScroll: true }));
}

onUnauthorized(() => {
  clearKey();
  login();
  const slot = document.querySelector('.login .error');
  if (slot) {
    slot.hidden = false;
    slot.textContent = 'The app key was refused (Unauthorized): sign in again.';
  }
});

window.addEventListener('hashchange', () => {
  if (getKey()) route().then(() => {
    const heading = document.querySelector('#main h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  });
});

start();
