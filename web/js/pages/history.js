// pages/history.js: the invocation history (reference/webhooks.md): every
// push attempt of the last 7 days, filtered by time range (at most 7 days),
// object id, event type, status and integration; a table of attempts, and
// one attempt's detail (the request sent, the response or the error) with a
// resend button.
import { call } from '../api.js';
import { h, clear, field, select, badge, table, errorSlot, showError, act, pageHeader, section } from '../ui.js';
import { INCIDENT_TYPES, ALERT_TYPES } from '../samples.js';
import { parse, pretty } from '../template.js';

const PAGE = 50;

function localInput(name, ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return h('input', { type: 'datetime-local', name, value: d.toISOString().slice(0, 16) });
}

function fmtEventTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

// A JSON body shown indented, keeping its key order and exact numbers
// (template.js's parser, not JSON.parse); anything else as it came.
function bodyText(text) {
  if (!text) return '(empty)';
  try {
    return pretty(parse(text));
  } catch {
    return text;
  }
}

function objectLink(item) {
  if (!item.ref_id) return '—';
  const href = (item.webhook_type === 'alert' ? '#/alerts/' : '#/incidents/') + item.ref_id;
  return h('a', { href, class: 'mono' }, item.ref_id);
}

export async function list(view, _params, ctx) {
  const q = ctx.query;
  const integrations = (await call('/integration/list', { limit: 100 })).items.filter((i) => !i.type.startsWith('alert_'));
  const now = Date.now();
  const from = localInput('start_time', now - 24 * 3600 * 1000);
  const to = localInput('end_time', now + 60 * 1000);
  const ref = h('input', { name: 'ref_id', value: q.get('ref') || '', placeholder: 'incident or alert id', class: 'mono' });
  const etype = select('event_types', [['', 'Any type'], ...INCIDENT_TYPES, ...ALERT_TYPES], q.get('type') || '');
  const status = select('status', [['', 'Any status'], ['success', 'Success'], ['failed', 'Failed']], q.get('status') || '');
  const integ = select('integration_id', [['', 'Any integration'], ...integrations.map((i) => [String(i.integration_id), i.name])], q.get('integration') || '');
  const slot = errorSlot();
  const search = h('button', { type: 'submit', class: 'primary' }, 'Search');
  const form = h('form', { class: 'filters card', 'aria-label': 'Filters' },
    field('From', from), field('To', to), field('Object id', ref), field('Event type', etype),
    field('Status', status), field('Integration', integ), h('div', { class: 'field' }, h('span', { class: 'label' }, '\u00a0'), search), slot);
  const results = h('div');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const moreSlot = errorSlot();
  const detailBox = h('div', { id: 'history-detail' });
  view.append(pageHeader('Invocation history'), form, detailBox, results, h('div', { class: 'row' }, more), moreSlot);
  const names = new Map(integrations.map((i) => [i.integration_id, i.name]));
  let rows = [];
  let cursor = '';
  let body = null;

  const draw = () => clear(results, table([
    { title: 'Time', cell: (i) => h('span', { class: 'nowrap' }, fmtEventTime(i.event_time)) },
    { title: 'Type', cell: (i) => h('code', {}, i.event_type) },
    { title: 'Integration', cell: (i) => names.get(i.integration_id) || '#' + i.integration_id },
    { title: 'Object', cell: objectLink },
    { title: 'Event id', cell: (i) => h('code', { class: 'clip' }, i.event_id) },
    { title: 'Status', cell: (i) => [badge(i.status, i.status), i.status_code ? ' ' + i.status_code : ''] },
    { title: 'Duration', class: 'num', cell: (i) => i.duration + ' ms' },
    { title: 'Attempt', class: 'num', cell: (i) => String(i.attempt) },
    { title: '', cell: (i) => h('button', { type: 'button', class: 'small', onclick: () => openDetail(detailBox, i.event_id, i.integration_id, names) }, 'Details') },
  ], rows, 'No attempts match these filters.', 'Push attempts'), h('p', { class: 'muted' }, `${rows.length} shown`));

  const load = async (append) => {
    if (!append) {
      body = { limit: PAGE, start_time: new Date(from.value).getTime(), end_time: new Date(to.value).getTime() };
      if (ref.value.trim()) body.ref_id = ref.value.trim();
      if (etype.value) body.event_types = [etype.value];
      if (status.value) body.status = status.value;
      if (integ.value) body.integration_id = Number(integ.value);
    }
    const req = append ? { ...body, search_after_ctx: cursor } : body;
    const data = await act(append ? more : search, append ? moreSlot : slot, () => call('/webhook/history/list', req), append ? null : form);
    if (!data) return;
    rows = append ? rows.concat(data.items || []) : data.items || [];
    cursor = data.search_after_ctx || '';
    more.hidden = !cursor || (data.items || []).length < PAGE;
    draw();
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load(false);
  });
  more.addEventListener('click', () => load(true));
  await load(false);
  if (q.get('event') && q.get('integration')) await openDetail(detailBox, q.get('event'), Number(q.get('integration')), names);
}

async function openDetail(box, eventId, integrationId, names) {
  const slot = errorSlot();
  clear(box, section('Attempt', h('p', { class: 'muted' }, 'Loading…')));
  let d;
  try {
    d = await call('/webhook/history/detail', { event_id: eventId, integration_id: integrationId });
  } catch (e) {
    clear(box, section('Attempt', slot));
    showError(slot, e);
    return;
  }
  const resend = h('button', { type: 'button' }, 'Resend');
  const out = h('p', { class: 'ok', role: 'status', hidden: true });
  resend.addEventListener('click', async () => {
    out.hidden = true;
    if (await act(resend, slot, () => call('/webhook/history/resend', { event_id: d.event_id, integration_id: d.integration_id }))) {
      out.hidden = false;
      out.textContent = 'Queued: sent again with the same event_id. Search again to see the new attempt.';
    }
  });
  const failed = d.status !== 'success';
  clear(box, h('section', { class: 'card detail-panel', 'aria-label': 'Attempt detail' },
    h('div', { class: 'row between' }, h('h2', { tabindex: '-1' }, 'Attempt ', h('code', {}, d.event_type)),
      h('button', { type: 'button', class: 'small ghost', onclick: () => clear(box) }, 'Close')),
    h('p', {}, badge(d.status, d.status), d.status_code ? ` HTTP ${d.status_code}` : '', ` · ${d.duration} ms · attempt ${d.attempt}`),
    h('dl', { class: 'fields' },
      h('dt', {}, 'Integration'), h('dd', {}, names.get(d.integration_id) || '#' + d.integration_id),
      h('dt', {}, 'Event id'), h('dd', {}, h('code', {}, d.event_id)),
      h('dt', {}, 'Object'), h('dd', {}, objectLink(d), d.ref_title ? ' ' + d.ref_title : ''),
      h('dt', {}, 'Event time'), h('dd', {}, fmtEventTime(d.event_time))),
    h('div', { class: 'io' },
      h('div', { class: 'request' },
        h('h3', {}, 'Request'),
        h('p', {}, h('strong', {}, 'POST '), h('code', { class: 'url' }, d.endpoint)),
        h('pre', { class: 'code small', 'aria-label': 'Request headers' }, d.request_headers || '(none)'),
        h('pre', { class: 'code', 'aria-label': 'Request body' }, bodyText(d.request_body))),
      h('div', { class: 'response' },
        h('h3', {}, 'Response'),
        failed && d.error_message ? h('p', { class: 'error' }, h('strong', {}, 'Error: '), d.error_message) : null,
        d.response_headers ? h('pre', { class: 'code small', 'aria-label': 'Response headers' }, d.response_headers.replace(/\r/g, '')) : null,
        h('pre', { class: 'code', 'aria-label': 'Response body' }, d.response_body ? bodyText(d.response_body) : '(no body)'))),
    h('div', { class: 'row' }, resend), out, slot));
  box.querySelector('h2').scrollIntoView({ block: 'nearest' });
  box.querySelector('h2').focus({ preventScroll: true });
}
