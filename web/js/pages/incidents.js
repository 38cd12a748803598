// pages/incidents.js: the incident list (filters: progress, severity,
// channel, time range; paged by `p`/`limit` with the total shown; live
// refresh of the page shown) and the incident page (every field,
// labels, alerts, the changes around it (Change History, from
// /incident/change/list), timeline, the progress actions, comments, edits
// and the channel's custom action buttons with their outcome).
import { call } from '../api.js';
import { quickSilence } from './channel_rules.js';
import { h, clear, field, select, fmtTime, fmtAgo, fmtDuration, badge, labels, table, dl, errorSlot,
  showError, act, pageHeader, section, pagedList } from '../ui.js';

const PROGRESS = ['Triggered', 'Processing', 'Closed'];
const SEVERITIES = ['Critical', 'Warning', 'Info'];
const RANGES = [['3600', 'Last hour'], ['21600', 'Last 6 hours'], ['86400', 'Last 24 hours'],
  ['604800', 'Last 7 days'], ['2592000', 'Last 30 days']];
const SNOOZES = [['10', '10 minutes'], ['30', '30 minutes'], ['60', '1 hour'], ['120', '2 hours'],
  ['240', '4 hours'], ['480', '8 hours'], ['720', '12 hours'], ['1440', '24 hours']];
const REFRESH_MS = 10000;
// Page sizes offered; the API allows at most 100 (ListIncidentsRequest.limit).
export const PAGE_SIZES = ['20', '50', '100'];

export function pageSize(text) {
  return PAGE_SIZES.includes(text) ? text : '50';
}

export function pageNumber(text) {
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

export async function channelNames() {
  const data = await call('/channel/list', { limit: 100 });
  return new Map((data.items || []).map((c) => [c.channel_id, c.channel_name]));
}

function checkboxGroup(legend, name, values, chosen) {
  return h('fieldset', { class: 'checks' }, h('legend', {}, legend),
           values.map((v) => h('label', {}, h('input', { type: 'checkbox', name, value: v, checked: chosen.includes(v) }), ' ', v)));
}

function checked(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

// ---- list ------------------------------------------------------------------

export async function list(view, _params, ctx) {
  const q = ctx.query;
  const chosen = {
    progress: (q.get('progress') ?? 'Triggered,Processing').split(',').filter(Boolean),
    severity: (q.get('severity') || '').split(',').filter(Boolean),
    channel: q.get('channel') || '',
    range: q.get('range') || '86400',
    size: pageSize(q.get('size')),
  };
  const names = await channelNames();
  const live = h('input', { type: 'checkbox', name: 'live', checked: q.get('live') !== '0' });
  const stamp = h('span', { class: 'muted', 'aria-live': 'polite' });
  const form = h('form', { class: 'filters card', 'aria-label': 'Filters' },
    checkboxGroup('Progress', 'progress', PROGRESS, chosen.progress),
    checkboxGroup('Severity', 'severity', SEVERITIES, chosen.severity),
    field('Channel', select('channel', [['', 'All channels'], ...[...names].map(([id, n]) => [String(id), n])], chosen.channel)),
    field('Time range', select('range', RANGES, chosen.range)),
    h('div', { class: 'field live' }, h('label', {}, live, ' Live refresh'), stamp));
  const slot = errorSlot();
  const results = h('div', { class: 'results' });
  const paged = pagedList({
    label: 'Incident pages', noun: 'incident', route: '#/incidents', slot, sizes: PAGE_SIZES,
    page: pageNumber(q.get('page')), size: chosen.size,
    params: () => ({ progress: checked(form, 'progress').join(','),
      severity: checked(form, 'severity').join(','), channel: form.channel.value,
      range: form.range.value, live: live.checked ? '1' : '0' }),
    fetchPage: (p, limit) => {
      const now = Math.floor(Date.now() / 1000);
      const body = { start_time: now - Number(form.range.value), end_time: now + 60, limit, p };
      const progress = checked(form, 'progress');
      const severity = checked(form, 'severity');
      if (progress.length) body.progress = progress.join(',');
      if (severity.length) body.incident_severity = severity.join(',');
      if (form.channel.value) body.channel_ids = [Number(form.channel.value)];
      return call('/incident/list', body);
    },
    draw: (items) => {
      clear(results, incidentTable(items, names));
      stamp.textContent = 'updated ' + fmtTime(Date.now(), 'ms').slice(11);
    },
  });
  view.append(pageHeader('Incidents'), form, slot, results, paged.pages);
  // Any filter change goes back to page 1; toggling live refresh keeps it.
  form.addEventListener('change', (ev) => (ev.target === live ? paged.refresh() : paged.restart()));
  form.addEventListener('submit', (e) => e.preventDefault());
  const timer = setInterval(() => {
    if (live.checked && document.visibilityState === 'visible') paged.load();
  }, REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));
  await paged.load();
}

function incidentTable(items, names) {
  return table([
    { title: 'Severity', cell: (i) => badge(i.incident_severity) },
    { title: 'Title', class: 'grow', cell: (i) => h('a', { href: '#/incidents/' + i.incident_id }, i.title) },
    { title: 'Progress', cell: (i) => [badge(i.progress), i.snoozed_before * 1000 > Date.now() ? badge('Snoozed', 'snoozed') : null] },
    { title: 'Channel', cell: (i) => i.channel_name || names.get(i.channel_id) || '—' },
    { title: 'Alerts', class: 'num', cell: (i) => String(i.alert_cnt) },
    { title: 'Started', cell: (i) => h('time', { datetime: new Date(i.start_time * 1000).toISOString(), title: fmtTime(i.start_time) }, fmtAgo(i.start_time)) },
    { title: 'Number', cell: (i) => h('code', {}, i.num) },
  ], items, 'No incidents match these filters.', 'Incidents');
}

// ---- detail ----------------------------------------------------------------

const FEED_WORDS = {
  i_new: 'Created', i_assign: 'Assigned', i_a_rspd: 'Responders added', i_snooze: 'Snoozed',
  i_wake: 'Woken', i_ack: 'Acknowledged', i_unack: 'Acknowledgement withdrawn', i_storm: 'Alert storm',
  i_custom: 'Custom action', i_rslv: 'Resolved', i_reopen: 'Reopened', i_merge: 'Merged',
  i_comm: 'Comment', i_r_title: 'Title changed', i_r_desc: 'Description changed',
  i_r_impact: 'Impact changed', i_r_rc: 'Root cause changed', i_r_rsltn: 'Resolution changed',
  i_r_severity: 'Severity changed', i_r_field: 'Field changed',
};

async function personNames(ids) {
  const wanted = [...new Set(ids.filter((x) => x > 0))];
  if (!wanted.length) return new Map();
  try {
    const data = await call('/person/infos', { person_ids: wanted });
    return new Map((data.items || []).map((p) => [p.person_id, p.person_name]));
  } catch {
    return new Map();
  }
}

function feedDetail(item) {
  const d = item.detail || {};
  if (item.type === 'i_custom') {
    const ok = d.status === 'success';
    return [h('strong', {}, d.integration_name || 'action #' + d.integration_id), ': ',
            badge(ok ? 'success' : 'failed', ok ? 'success' : 'failed'),
            d.status_code ? ` HTTP ${d.status_code}` : '', d.message ? ' — ' + d.message : ''];
  }
  const parts = Object.entries(d).filter(([, v]) => v !== '' && v !== null && typeof v !== 'object');
  return parts.map(([k, v], n) => [n ? ' · ' : '', h('span', { class: 'muted' }, k.replace(/_/g, ' ') + ': '), String(v)]);
}

export async function detail(view, [id], ctx) {
  // Reloads after actions may overlap (a custom action's delayed refresh
  // and an acknowledgement): only the newest one draws.
  const gen = String(Number(view.dataset.gen || 0) + 1);
  view.dataset.gen = gen;
  const inc = await call('/incident/info', { incident_id: id });
  const [feed, alertsData, actions, changes] = await Promise.all([
    call('/incident/feed', { incident_id: id, limit: 100 }),
    call('/incident/alert/list', { incident_id: id, limit: 100 }),
    call('/integration/list', { type: 'custom_action', limit: 100 }).catch(() => ({ items: [] })),
    call('/incident/change/list', { incident_id: id, limit: 100 }),
  ]);
  const people = await personNames([inc.creator_id, inc.closer_id, ...(feed.items || []).map((f) => f.creator_id)]);
  if (view.dataset.gen !== gen) return;
  clear(view);
  const reload = () => detail(view, [id], ctx).catch((e) => view.prepend(h('p', { class: 'error', role: 'alert' }, e.message)));

  const snoozed = inc.snoozed_before * 1000 > Date.now();
  view.append(pageHeader(inc.title, badge(inc.incident_severity), badge(inc.progress), snoozed ? badge('Snoozed', 'snoozed') : null),
              h('p', { class: 'crumbs' }, h('a', { href: '#/incidents' }, 'Incidents'), ' / ', h('code', {}, inc.num || inc.incident_id)));

  view.append(progressActions(inc, snoozed, reload));
  const mine = (actions.items || []).filter((a) => a.status === 'enabled' && (a.channel_ids || []).includes(inc.channel_id));
  // Outcomes stay shown across the reloads that follow the press.
  view.actionResults = view.actionResults || new Map();
  if (mine.length) view.append(customActions(inc, mine, reload, view.actionResults));

  view.append(h('div', { class: 'grid2' },
    section('Details', dl([
      ['Incident id', h('code', {}, inc.incident_id)], ['Number', inc.num],
      ['Severity', badge(inc.incident_severity)], ['Status', badge(inc.incident_status)],
      ['Progress', badge(inc.progress)], ['Channel', inc.channel_name || '—'],
      ['Description', inc.description], ['Impact', inc.impact], ['Root cause', inc.root_cause],
      ['Resolution', inc.resolution], ['Started', fmtTime(inc.start_time)], ['Last event', fmtTime(inc.last_time)],
      ['Acknowledged', fmtTime(inc.ack_time)], ['Recovered', fmtTime(inc.end_time)], ['Closed', fmtTime(inc.close_time)],
      ['Snoozed until', fmtTime(inc.snoozed_before)], ['Created', fmtTime(inc.created_at)], ['Updated', fmtTime(inc.updated_at)],
      ['Created by', inc.creator_id ? people.get(inc.creator_id) || '#' + inc.creator_id : 'an alert'],
      ['Closed by', inc.closer_id ? people.get(inc.closer_id) || '#' + inc.closer_id : '—'],
      ['Responders', (inc.responders || []).map((r) => r.person_name || '#' + r.person_id).join(', ')],
      ['Assigned', assignedText(inc.assigned_to)],
      ['Escalation', escalationText(inc.escalation)],
      ['Alerts', `${inc.alert_cnt} (${inc.active_alert_cnt} active, ${inc.alert_event_cnt} events)`],
      ['Grouping', { n: 'none', p: 'by rule', i: 'intelligent' }[inc.group_method] || inc.group_method],
      ['Fields', Object.keys(inc.fields || {}).length ? JSON.stringify(inc.fields) : ''],
      ['Link', h('a', { href: inc.detail_url }, inc.detail_url)],
    ])),
    h('div', {},
      section('Labels', labels(inc.labels)),
      editForm(inc, reload),
      commentForm(inc, reload))));

  view.append(section('Alerts', table([
    { title: 'Severity', cell: (a) => badge(a.alert_severity) },
    { title: 'Title', class: 'grow', cell: (a) => h('a', { href: '#/alerts/' + a.alert_id }, a.title) },
    { title: 'Status', cell: (a) => badge(a.alert_status) },
    { title: 'Source', cell: (a) => a.data_source_name || '—' },
    { title: 'Events', class: 'num', cell: (a) => String(a.event_cnt) },
    { title: 'Last event', cell: (a) => fmtTime(a.last_time) },
  ], alertsData.items || [], 'No alerts (created by hand).', 'Alerts of the incident')));

  view.append(changeHistory(changes.items || []));

  view.append(section('Timeline', h('ol', { class: 'timeline' }, (feed.items || []).map((f) =>
    h('li', { class: 'feed-' + f.type },
      h('time', { datetime: new Date(f.created_at).toISOString() }, fmtTime(f.created_at, 'ms')),
      h('span', { class: 'what' }, FEED_WORDS[f.type] || f.type),
      h('span', { class: 'who' }, f.creator_id ? 'by ' + (people.get(f.creator_id) || '#' + f.creator_id) : 'automatic'),
      h('div', { class: 'feed-detail' }, feedDetail(f)))))));
}

// A change's ticket link, shown as a link only when it is http(s): the
// text comes from whoever pushes changes.
function changeLink(link) {
  if (!link) return '—';
  return /^https?:\/\//i.test(link) ? h('a', { href: link, rel: 'noopener noreferrer', target: '_blank' }, link) : link;
}

// The changes of the incident's channel active from 2 hours before it
// started to its end (rules.md, "Change events").
function changeHistory(items) {
  const now = Date.now() / 1000;
  return section('Change History', table([
    { title: 'Status', cell: (c) => badge(c.change_status) },
    { title: 'Key', cell: (c) => h('code', {}, c.change_key) },
    { title: 'Title', class: 'grow', cell: (c) => c.title },
    { title: 'Description', cell: (c) => c.description || '—' },
    { title: 'Source', cell: (c) => c.integration_name || '#' + c.integration_id },
    { title: 'Start', cell: (c) => fmtTime(c.start_time) },
    { title: 'End', cell: (c) => fmtTime(c.end_time) },
    { title: 'Duration', class: 'num', cell: (c) => fmtDuration(Math.round(Math.max(0, (c.end_time || now) - c.start_time) * 1000)) + (c.end_time ? '' : ' (ongoing)') },
    { title: 'Link', cell: (c) => changeLink(c.link) },
  ], items, 'No changes around this incident.', 'Changes around the incident'));
}

// AssignedTo: how the incident was last assigned (assign, escalate,
// reassign, reopen), by which rule and layer, when.
function assignedText(at) {
  if (!at || !at.type) return '—';
  const rule = at.escalate_rule_name ? ` by rule ${at.escalate_rule_name}, layer ${at.layer_idx}` : '';
  return `${at.type}${rule}, ${fmtTime(at.assigned_at)}`;
}

const ESCALATION_STATES = { pending: 'waiting for its delay window', escalate: 'next layer due',
  paused: 'paused (snoozed)', done: 'every layer assigned', stopped: 'stopped (acknowledged or closed)',
  off: 'left (assigned by hand)' };

// The escalation rule the incident follows and its next step.
function escalationText(e) {
  if (!e) return 'no rule';
  const next = e.next_at ? ` · layer ${e.layer_idx} at ${fmtTime(e.next_at, 'ms')}` : '';
  return `${e.rule_name}: ${ESCALATION_STATES[e.state] || e.state}${next}`;
}

function actionButton(text, cls, onClick) {
  return h('button', { type: 'button', class: cls, onclick: onClick }, text);
}

const QUICK_SILENCES = [['1800', '30 minutes'], ['3600', '1 hour'], ['86400', '1 day'],
  ['604800', '1 week'], ['1209600', '2 weeks']];

function progressActions(inc, snoozed, reload) {
  const ids = { incident_ids: [inc.incident_id] };
  const slot = errorSlot();
  const bar = h('div', { class: 'actions card', role: 'group', 'aria-label': 'Incident actions' });
  const run = (path, body) => async (ev) => {
    const ok = await act(ev.currentTarget, slot, () => call(path, body()));
    if (ok) reload();
  };
  if (inc.progress === 'Triggered') bar.append(actionButton('Acknowledge', 'primary', run('/incident/ack', () => ids)));
  if (inc.progress === 'Processing') bar.append(actionButton('Unacknowledge', '', run('/incident/unack', () => ids)));
  if (inc.progress !== 'Closed') {
    const minutes = select('minutes', SNOOZES, '60');
    minutes.setAttribute('aria-label', 'Snooze for');
    bar.append(h('span', { class: 'inline' }, minutes,
      actionButton('Snooze', '', run('/incident/snooze', () => ({ ...ids, minutes: Number(minutes.value) })))));
    if (snoozed) bar.append(actionButton('Wake', '', run('/incident/wake', () => ids)));
    bar.append(actionButton('Resolve', 'danger', run('/incident/resolve', () => ids)));
    // Quick silence: later alerts like this incident's are muted for a while.
    const length = select('silence_for', QUICK_SILENCES, '86400');
    length.setAttribute('aria-label', 'Silence for');
    const silence = actionButton('Quick silence', '', async (ev) => {
      const made = await act(ev.currentTarget, slot, () => quickSilence(inc, Number(length.value)));
      if (made) {
        slot.hidden = false;
        slot.className = 'ok';
        slot.textContent = `Silenced: rule "${made.rule_name}" in this channel.`;
      }
    });
    bar.append(h('span', { class: 'inline' }, length, silence));
  } else {
    const reason = h('input', { type: 'text', name: 'reason', placeholder: 'Why reopen? (required)', 'aria-label': 'Reason for reopening', maxlength: '1024' });
    bar.append(h('span', { class: 'inline grow' }, reason,
      actionButton('Reopen', 'primary', run('/incident/reopen', () => ({ ...ids, reason: reason.value })))));
  }
  bar.append(slot);
  return bar;
}

function customActions(inc, actions, reload, results) {
  return section('Custom actions', h('ul', { class: 'custom-actions' }, actions.map((a) => {
    const out = h('output', { class: 'result', 'aria-live': 'polite' });
    const shown = (data) => {
      out.className = 'result ' + (data.message ? 'failed' : 'success');
      out.textContent = data.message ? 'Failed: ' + data.message : 'Succeeded';
    };
    if (results.has(a.integration_id)) shown(results.get(a.integration_id));
    const slot = errorSlot();
    const b = h('button', { type: 'button', class: 'action', 'data-integration': String(a.integration_id) }, a.name);
    b.addEventListener('click', async () => {
      out.textContent = 'Running…';
      out.className = 'result';
      const data = await act(b, slot, () => call('/incident/custom-action/do', { incident_id: inc.incident_id, integration_id: a.integration_id }));
      if (!data) {
        out.textContent = '';
        return;
      }
      results.set(a.integration_id, data);
      shown(data);
      reload(); // the timeline records the outcome
    });
    return h('li', {}, b, out, a.description ? h('small', { class: 'muted' }, a.description) : null, slot);
  })));
}

function editForm(inc, reload) {
  const fields = [['title', 'Title', 'input'], ['description', 'Description', 'textarea'],
    ['impact', 'Impact', 'textarea'], ['root_cause', 'Root cause', 'textarea'], ['resolution', 'Resolution', 'textarea']];
  const controls = fields.map(([name, label, tag]) => field(label, h(tag, { name, value: inc[name] || '', rows: tag === 'textarea' ? '2' : null })));
  const sev = select('incident_severity', SEVERITIES, inc.incident_severity);
  const slot = errorSlot();
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save changes');
  const form = h('form', { class: 'stack', 'aria-label': 'Edit incident' }, controls, field('Severity', sev), h('div', { class: 'row' }, save), slot);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { incident_id: inc.incident_id };
    for (const [name] of fields) if (form[name].value !== (inc[name] || '')) body[name] = form[name].value;
    if (sev.value !== inc.incident_severity) body.incident_severity = sev.value;
    if (Object.keys(body).length === 1) {
      showError(slot, { code: '', message: 'Nothing changed.' });
      return;
    }
    if (await act(save, slot, () => call('/incident/reset', body), form)) reload();
  });
  return h('details', { class: 'card' }, h('summary', {}, 'Edit title, description, impact, root cause, resolution, severity'), form);
}

function commentForm(inc, reload) {
  const text = h('textarea', { name: 'comment', rows: '2', maxlength: '1024' });
  const slot = errorSlot();
  const send = h('button', { type: 'submit' }, 'Comment');
  const form = h('form', { class: 'stack', 'aria-label': 'Comment' }, field('Comment', text), h('div', { class: 'row' }, send), slot);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (await act(send, slot, () => call('/incident/comment', { incident_ids: [inc.incident_id], comment: text.value }), form)) reload();
  });
  return h('section', { class: 'card' }, form);
}
