// ui.js: small DOM helpers shared by the pages: building elements, showing
// times, badges and tables, and showing every API error in words next to
// what caused it (issue 5, item 6).
//
// Elements are built with h(tag, attrs, ...children); text always goes in
// as text nodes, never as HTML, so nothing received from the API (titles,
// labels, response bodies) can inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idSeq = 0;
export function uid(prefix = 'f') {
  idSeq += 1;
  return prefix + '-' + idSeq;
}

// A labelled form field: the label is tied to the control by id.
export function field(label, control, hint) {
  if (!control.id) control.id = uid();
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control,
           hint ? h('small', { class: 'hint' }, hint) : null);
}

export function select(name, options, value) {
  const s = h('select', { name });
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    s.append(h('option', { value: v, selected: String(v) === String(value) }, text));
  }
  return s;
}

// Unix seconds or milliseconds as local date and time; 0 is "—".
export function fmtTime(t, unit = 's') {
  if (!t) return '—';
  const d = new Date(unit === 's' ? t * 1000 : t);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
         `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtAgo(t, unit = 's') {
  if (!t) return '—';
  const ms = Date.now() - (unit === 's' ? t * 1000 : t);
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + 's ago';
  if (s < 3600) return Math.round(s / 60) + 'm ago';
  if (s < 86400) return Math.round(s / 3600) + 'h ago';
  return Math.round(s / 86400) + 'd ago';
}

export function fmtDuration(ms) {
  if (ms < 1000) return ms + ' ms';
  const s = Math.round(ms / 1000);
  if (s < 120) return s + ' s';
  if (s < 7200) return Math.round(s / 60) + ' min';
  return Math.round(s / 3600) + ' h';
}

// Severity, status and progress words get a colour class of their own.
export function badge(text, kind = String(text).toLowerCase()) {
  return h('span', { class: 'badge badge-' + kind }, text);
}

export function labels(map) {
  const entries = Object.entries(map || {});
  if (!entries.length) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'labels' },
           entries.map(([k, v]) => h('li', {}, h('span', { class: 'lk' }, k), h('span', { class: 'lv' }, v))));
}

// A table from column specs {title, cell(row) -> node|text, class}.
export function table(columns, rows, empty = 'Nothing to show.', caption) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
           h('table', {},
             caption ? h('caption', { class: 'sr-only' }, caption) : null,
             h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.title)))),
             h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.class, 'data-label': c.title }, c.cell(r))))))));
}

// Definition list of [term, value] pairs.
export function dl(pairs) {
  return h('dl', { class: 'fields' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v === '' ? h('span', { class: 'muted' }, '—') : v)]));
}

// The place an error is shown: right after the control that caused it.
export function errorSlot() {
  return h('p', { class: 'error', role: 'alert', hidden: true });
}

export function showError(slot, err) {
  if (!slot) return;
  if (!err) {
    slot.hidden = true;
    slot.textContent = '';
    return;
  }
  slot.hidden = false;
  slot.textContent = '';
  slot.append(h('strong', {}, err.code ? err.code + ': ' : 'Error: '), err.message || String(err));
}

// Marks the form control an API message names (messages name their field,
// e.g. "endpoint must start with http:// or https://") and shows the
// message under it; the form-level slot shows it too.
export function showFormError(form, slot, err) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  showError(slot, err);
  if (!err || !err.message) return;
  const named = [...form.querySelectorAll('[name]')]
    .filter((el) => el.name && new RegExp('(^|[^a-z_.])' + el.name.replace(/[.[\]]/g, '\\$&') + '([^a-z_]|$)').test(err.message))
    .sort((a, b) => b.name.length - a.name.length);
  const target = named[0];
  if (target) {
    target.setAttribute('aria-invalid', 'true');
    const note = h('p', { class: 'field-error', role: 'alert' }, err.message);
    (target.closest('.field') || target).after(note);
    if (!form.contains(document.activeElement) || document.activeElement.tagName === 'BUTTON') target.focus();
  }
}

// Runs fn for a button press: the button is busy meanwhile, the error (if
// any) is shown in slot (and, given the form, under the field it names),
// and the result of fn is returned (or undefined after an error).
export async function act(button, slot, fn, form) {
  if (form) showFormError(form, slot, null);
  else showError(slot, null);
  if (button) {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
  }
  try {
    return await fn();
  } catch (e) {
    if (form) showFormError(form, slot, e);
    else showError(slot, e);
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }
}

// A value copied to the clipboard, with a visible confirmation.
export function copyButton(getText, label = 'Copy') {
  const b = h('button', { type: 'button', class: 'small' }, label);
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(getText());
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Select and copy';
    }
    setTimeout(() => { b.textContent = label; }, 1500);
  });
  return b;
}

export function pageHeader(title, ...extra) {
  return h('div', { class: 'page-head' }, h('h1', {}, title), h('div', { class: 'page-actions' }, extra));
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', {}, title), children);
}

// Previous/Next paging by page number: the `p` and `limit` of /incident/list
// and /alert/list, whose answers carry `total` and `has_next_page`. The
// pager stays in the page across loads (so keyboard focus stays on the
// button pressed); update() shows "21–40 of 88 incidents · page 2 of 5",
// and disables Previous on page 1 and Next when has_next_page is false.
// onGo(page) loads that page; a button that ends up disabled (the first or
// last page reached) hands focus to the other one.
export function pager(label, noun, onGo) {
  const prev = h('button', { type: 'button', class: 'small', 'data-page': 'prev' }, h('span', { 'aria-hidden': 'true' }, '← '), 'Previous');
  const next = h('button', { type: 'button', class: 'small', 'data-page': 'next' }, 'Next', h('span', { 'aria-hidden': 'true' }, ' →'));
  const info = h('span', { class: 'pager-info', role: 'status' });
  const nav = h('nav', { class: 'pager', 'aria-label': label }, prev, info, next);
  let page = 1;
  const go = async (to, pressed, other) => {
    nav.setAttribute('aria-busy', 'true');
    try {
      await onGo(to);
    } finally {
      nav.removeAttribute('aria-busy');
    }
    if (pressed.disabled && document.activeElement !== other) (other.disabled ? info : other).focus();
  };
  info.tabIndex = -1;
  prev.addEventListener('click', () => go(page - 1, prev, next));
  next.addEventListener('click', () => go(page + 1, next, prev));
  nav.update = ({ p, limit, count, total, hasNext }) => {
    page = p;
    const first = count ? (p - 1) * limit + 1 : 0;
    const pages = Math.max(1, Math.ceil(total / limit));
    const plural = total === 1 ? noun : noun + 's';
    info.textContent = count
      ? `${first}–${first + count - 1} of ${total} ${plural} · page ${p} of ${Math.max(pages, p)}`
      : `${total} ${plural}`;
    prev.disabled = p <= 1;
    next.disabled = !hasNext;
    nav.hidden = false;
  };
  nav.hidden = true;
  return nav;
}

// A paged list page's state: the page number and size, kept in the address
// with the filters (params()), so reloads and live refreshes stay on the
// page shown. Loads may overlap (a live refresh and a page change): only
// the newest one draws. A page that emptied under us (rows closed, the
// window moved on) shows the last page that has rows instead.
// fetchPage(page, limit) answers the API's {items, total, has_next_page};
// draw(items, data) renders a page. refresh() reloads the page shown;
// restart() goes back to page 1 (any filter change).
export function pagedList({ label, noun, route, page, size, sizes, params, fetchPage, draw, slot }) {
  const sizeSelect = select('size', sizes, size);
  const remember = () => {
    history.replaceState(null, '', route + '?' + new URLSearchParams({
      ...params(), size: sizeSelect.value, page: String(page) }));
  };
  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    const limit = Number(sizeSelect.value);
    try {
      const data = await fetchPage(page, limit);
      if (mine !== seq) return;
      const items = data.items || [];
      const last = Math.max(1, Math.ceil((data.total || 0) / limit));
      if (!items.length && page > last) {
        page = last;
        remember();
        await load();
        return;
      }
      showError(slot, null);
      draw(items, data);
      pages.update({ p: page, limit, count: items.length, total: data.total || 0, hasNext: !!data.has_next_page });
    } catch (e) {
      if (mine === seq) showError(slot, e);
    }
  };
  const go = (to) => {
    page = to;
    remember();
    return load();
  };
  const pages = pager(label, noun, go);
  pages.append(field('Per page', sizeSelect));
  const restart = () => go(1);
  sizeSelect.addEventListener('change', restart);
  return { pages, load, restart, refresh: () => go(page) };
}
