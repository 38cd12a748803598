// pages/channel_rules.js: a channel's drop, silence and inhibit rules on
// its page (reference/rules.md): one table per kind with Enable/Disable and
// Delete on each rule, and a form that creates a rule of any kind from one
// condition (key, IN/NOT IN, comma-separated values: /regex/, wildcards,
// cidr:, num: are the server's to read). Silences take a one-off window;
// inhibit rules a source condition, a target condition and the labels that
// must be equal. The incident page's Quick silence is quickSilence() below.
import { call } from '../api.js';
import { h, clear, field, select, fmtTime, badge, table, errorSlot, act, section } from '../ui.js';

const KINDS = [['unsubscribe', 'Drop'], ['silence', 'Silence'], ['inhibit', 'Inhibit']];
const OPERS = [['IN', 'is one of'], ['NOTIN', 'is none of']];

function condition(key, oper, vals) {
  return [[{ key, oper, vals: vals.split(',').map((v) => v.trim()).filter(Boolean) }]];
}

function describe(groups) {
  return (groups || []).map((g) => g.map((c) => `${c.key} ${c.oper === 'IN' ? 'in' : 'not in'} ${c.vals.join(', ')}`).join(' and ')).join(' or ');
}

function localInput(name, unixS) {
  const d = new Date(unixS * 1000 - new Date().getTimezoneOffset() * 60000);
  return h('input', { type: 'datetime-local', name, value: d.toISOString().slice(0, 16) });
}

function ruleTable(kind, items, channelId, refresh, slot) {
  const cols = [
    { title: 'Name', class: 'grow', cell: (r) => r.rule_name },
    { title: 'Status', cell: (r) => badge(r.status) },
  ];
  if (kind === 'inhibit') {
    cols.push({ title: 'Source', cell: (r) => describe(r.source_filters) },
      { title: 'Target', cell: (r) => describe(r.target_filters) },
      { title: 'Equal', cell: (r) => (r.equals || []).join(', ') });
  } else {
    cols.push({ title: 'Conditions', cell: (r) => describe(r.filters) });
  }
  if (kind === 'silence') {
    cols.push({ title: 'Window', cell: (r) => (r.time_filter ? `${fmtTime(r.time_filter.start_time)} – ${fmtTime(r.time_filter.end_time)}` : 'recurring') },
      { title: 'In force', cell: (r) => (r.is_effective ? 'yes' : 'no') });
  }
  cols.push({ title: 'Actions', cell: (r) => {
    const on = r.status === 'enabled';
    const toggle = h('button', { type: 'button', class: 'small' }, on ? 'Disable' : 'Enable');
    toggle.addEventListener('click', async () => {
      if (await act(toggle, slot, () => call(`/channel/${kind}/rule/${on ? 'disable' : 'enable'}`, { channel_id: channelId, rule_id: r.rule_id }))) refresh();
    });
    const del = h('button', { type: 'button', class: 'small danger' }, 'Delete');
    del.addEventListener('click', async () => {
      if (await act(del, slot, () => call(`/channel/${kind}/rule/delete`, { channel_id: channelId, rule_id: r.rule_id }))) refresh();
    });
    return h('span', { class: 'row' }, toggle, ' ', del);
  } });
  const label = KINDS.find(([k]) => k === kind)[1];
  return h('div', { class: 'rules-' + kind }, h('h3', {}, label + ' rules'),
    table(cols, items, `No ${label.toLowerCase()} rules.`, label + ' rules'));
}

function ruleForm(channelId, refresh) {
  const kind = select('kind', KINDS, 'unsubscribe');
  const name = h('input', { name: 'rule_name', required: true, maxlength: '39' });
  const key = h('input', { name: 'key', value: 'severity' });
  const oper = select('oper', OPERS, 'IN');
  const vals = h('input', { name: 'vals', placeholder: 'Info, /^db-/, cidr:10.0.0.0/8' });
  const now = Math.floor(Date.now() / 1000);
  const start = localInput('start_time', now);
  const end = localInput('end_time', now + 3600);
  const discard = h('input', { type: 'checkbox', name: 'is_directly_discard' });
  const srcKey = h('input', { name: 'source_key', value: 'severity' });
  const srcVals = h('input', { name: 'source_vals', value: 'Critical' });
  const equals = h('input', { name: 'equals', placeholder: 'labels.cluster, labels.service' });
  const silenceOnly = h('div', { class: 'row' }, field('From', start), field('Until', end));
  const inhibitOnly = h('div', { class: 'row' }, field('Source key', srcKey), field('Source values', srcVals),
    field('Equal fields', equals));
  const discardRow = h('label', { class: 'check' }, discard, ' Discard matched alerts (leave no trace)');
  const slot = errorSlot();
  const create = h('button', { type: 'submit', class: 'primary' }, 'Create rule');
  const form = h('form', { class: 'stack', 'aria-label': 'New rule' },
    h('div', { class: 'row' }, field('Kind', kind), field('Name', name)),
    h('div', { class: 'row' }, field('Key', key), field('Operator', oper), field('Values', vals)),
    silenceOnly, inhibitOnly, discardRow, h('div', { class: 'row' }, create), slot);
  const shape = () => {
    silenceOnly.hidden = kind.value !== 'silence';
    inhibitOnly.hidden = kind.value !== 'inhibit';
    discardRow.hidden = kind.value === 'unsubscribe';
  };
  kind.addEventListener('change', shape);
  shape();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { channel_id: channelId, rule_name: name.value };
    if (kind.value === 'inhibit') {
      body.target_filters = condition(key.value, oper.value, vals.value);
      body.source_filters = condition(srcKey.value, 'IN', srcVals.value);
      body.equals = equals.value.split(',').map((v) => v.trim()).filter(Boolean);
    } else {
      body.filters = condition(key.value, oper.value, vals.value);
    }
    if (kind.value === 'silence') {
      body.time_filter = { start_time: Math.floor(new Date(start.value).getTime() / 1000),
        end_time: Math.floor(new Date(end.value).getTime() / 1000) };
    }
    if (kind.value !== 'unsubscribe') body.is_directly_discard = discard.checked;
    if (await act(create, slot, () => call(`/channel/${kind.value}/rule/create`, body), form)) {
      name.value = '';
      refresh();
    }
  });
  return form;
}

// The "Rules" card of a channel page.
export async function rulesSection(channelId) {
  const tables = h('div', { class: 'rule-tables' });
  const slot = errorSlot();
  const refresh = async () => {
    const lists = await Promise.all(KINDS.map(([k]) => call(`/channel/${k}/rule/list`, { channel_id: channelId })));
    clear(tables, KINDS.map(([k], i) => ruleTable(k, lists[i].items || [], channelId, refresh, slot)));
  };
  await refresh();
  return section('Rules', tables, slot, h('h3', {}, 'New rule'), ruleForm(channelId, refresh));
}

// Quick silence of an incident (reference/rules.md, "Quick silence"): a
// one-off silence of its channel for `seconds` (1 day unless chosen), named
// after its number, matching its severity and labels. The server keeps one
// quick silence per incident: pressing again edits it.
export function quickSilence(inc, seconds = 86400) {
  const now = Math.floor(Date.now() / 1000);
  const conds = [{ key: 'severity', oper: 'IN', vals: [inc.incident_severity] }];
  for (const [k, v] of Object.entries(inc.labels || {}).slice(0, 10)) conds.push({ key: 'labels.' + k, oper: 'IN', vals: [v] });
  return call('/channel/silence/rule/create', {
    channel_id: inc.channel_id, rule_name: ('Quick Silence - #' + (inc.num || inc.incident_id.slice(-6))).slice(0, 39),
    from_incident_id: inc.incident_id, filters: [conds],
    time_filter: { start_time: now, end_time: now + seconds }, is_directly_discard: false });
}
