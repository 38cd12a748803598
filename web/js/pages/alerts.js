// pages/alerts.js: the alert list (active or all, severity, channel, time
// range, muted by a silence or inhibit rule; paged by `p`/`limit` with the
// total shown) and the alert page
// with every field, labels and its events.
import { call } from '../api.js';
import { h, clear, field, select, fmtTime, fmtAgo, badge, labels, table, dl, errorSlot, pageHeader,
  section, pagedList } from '../ui.js';
import { channelNames, PAGE_SIZES, pageSize, pageNumber } from './incidents.js';

const RANGES = [['3600', 'Last hour'], ['86400', 'Last 24 hours'], ['604800', 'Last 7 days'],
  ['2592000', 'Last 30 days']];

export async function list(view, _params, ctx) {
  const q = ctx.query;
  const names = await channelNames();
  const form = h('form', { class: 'filters card', 'aria-label': 'Filters' },
    field('Show', select('active', [['1', 'Active alerts'], ['', 'All alerts']], q.get('active') ?? '1')),
    field('Severity', select('severity', [['', 'Any severity'], 'Critical', 'Warning', 'Info'], q.get('severity') || '')),
    field('Channel', select('channel', [['', 'All channels'], ...[...names].map(([id, n]) => [String(id), n])], q.get('channel') || '')),
    field('Time range', select('range', RANGES, q.get('range') || '86400')),
    field('Muted', select('muted', [['', 'Muted or not'], ['1', 'Only muted (silenced or inhibited)']], q.get('muted') || '')));
  const slot = errorSlot();
  const results = h('div');
  const paged = pagedList({
    label: 'Alert pages', noun: 'alert', route: '#/alerts', slot, sizes: PAGE_SIZES,
    page: pageNumber(q.get('page')), size: pageSize(q.get('size')),
    params: () => ({ active: form.active.value, severity: form.severity.value,
      channel: form.channel.value, range: form.range.value, muted: form.muted.value }),
    fetchPage: (p, limit) => {
      const now = Math.floor(Date.now() / 1000);
      const body = { start_time: now - Number(form.range.value), end_time: now + 60, limit, p };
      if (form.active.value) body.is_active = true;
      if (form.severity.value) body.alert_severity = form.severity.value;
      if (form.channel.value) body.channel_ids = [Number(form.channel.value)];
      if (form.muted.value) body.ever_muted = true;
      return call('/alert/list', body);
    },
    draw: (items) => clear(results, table([
      { title: 'Severity', cell: (a) => badge(a.alert_severity) },
      { title: 'Title', class: 'grow', cell: (a) => h('a', { href: '#/alerts/' + a.alert_id }, a.title) },
      { title: 'Status', cell: (a) => [badge(a.alert_status), a.ever_muted ? badge('Muted', 'muted') : null] },
      { title: 'Channel', cell: (a) => a.channel_name || names.get(a.channel_id) || '—' },
      { title: 'Source', cell: (a) => a.data_source_name || a.integration_name || '—' },
      { title: 'Events', class: 'num', cell: (a) => String(a.event_cnt) },
      { title: 'Last event', cell: (a) => fmtAgo(a.last_time) },
    ], items, 'No alerts match these filters.', 'Alerts')),
  });
  view.append(pageHeader('Alerts'), form, slot, results, paged.pages);
  form.addEventListener('change', paged.restart);
  form.addEventListener('submit', (e) => e.preventDefault());
  await paged.load();
}

export async function detail(view, [id]) {
  const [a, events] = await Promise.all([
    call('/alert/info', { alert_id: id }),
    call('/alert/event/list', { alert_id: id }),
  ]);
  view.append(pageHeader(a.title, badge(a.alert_severity), badge(a.progress)),
    h('p', { class: 'crumbs' }, h('a', { href: '#/alerts' }, 'Alerts'), ' / ', h('code', {}, a.alert_id)));
  view.append(h('div', { class: 'grid2' },
    section('Details', dl([
      ['Alert id', h('code', {}, a.alert_id)], ['Alert key', h('code', {}, a.alert_key)],
      ['Severity', badge(a.alert_severity)], ['Status', badge(a.alert_status)], ['Progress', badge(a.progress)],
      ['Title rule', a.title_rule || ''], ['Description', a.description || ''],
      ['Channel', a.channel_name || '—'], ['Source', `${a.data_source_name || '—'} (${a.data_source_type || '?'})`],
      ['Incident', a.incident && a.incident.incident_id ? h('a', { href: '#/incidents/' + a.incident.incident_id }, a.incident.title) : '—'],
      ['Started', fmtTime(a.start_time)], ['Last event', fmtTime(a.last_time)], ['Recovered', fmtTime(a.end_time)],
      ['Closed', fmtTime(a.close_time)], ['Events', String(a.event_cnt)],
    ])),
    section('Labels', labels(a.labels))));
  view.append(section('Events', table([
    { title: 'Time', cell: (e) => fmtTime(e.event_time) },
    { title: 'Status', cell: (e) => badge(e.event_status) },
    { title: 'Title', class: 'grow', cell: (e) => e.title },
    { title: 'Description', cell: (e) => e.description || '—' },
    { title: 'Labels', cell: (e) => labels(e.labels) },
  ], events.items || [], 'No events.', 'Events of the alert')));
}
