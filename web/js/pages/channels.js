// pages/channels.js: channels (list, create, edit their grouping: method,
// the label keys that must be equal, the time window, the storm threshold;
// enable, disable, delete; their drop, silence and inhibit rules, in
// pages/channel_rules.js) and their escalation rules (list, create with
// one or two layers, enable, disable, delete).
import { call } from '../api.js';
import { h, field, select, fmtTime, badge, table, errorSlot, act, pageHeader, section } from '../ui.js';
import { rulesSection } from './channel_rules.js';

const METHODS = [['n', 'No grouping: one incident per alert'], ['p', 'By rule: equal label values'],
  ['i', 'Intelligent (falls back to the rule)']];

export async function list(view) {
  const data = await call('/channel/list', { limit: 100 });
  const name = h('input', { name: 'channel_name', required: true, maxlength: '59' });
  const desc = h('input', { name: 'description' });
  const slot = errorSlot();
  const create = h('button', { type: 'submit', class: 'primary' }, 'Create channel');
  const form = h('form', { class: 'inline-form', 'aria-label': 'New channel' },
                 field('Name', name), field('Description', desc), create, slot);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const made = await act(create, slot, () => call('/channel/create', { channel_name: name.value, description: desc.value, team_id: 0 }), form);
    if (made) location.hash = '#/channels/' + made.channel_id;
  });
  view.append(pageHeader('Channels'), section('New channel', form),
    section('All channels', table([
      { title: 'Name', class: 'grow', cell: (c) => h('a', { href: '#/channels/' + c.channel_id }, c.channel_name) },
      { title: 'Status', cell: (c) => badge(c.status) },
      { title: 'Grouping', cell: (c) => ({ n: 'none', p: 'by rule', i: 'intelligent' })[c.group?.method] || '—' },
      { title: 'Window', cell: (c) => (c.group?.time_window ? c.group.time_window + ' min' : '—') },
      { title: 'Storm at', cell: (c) => (c.group?.storm_threshold ? c.group.storm_threshold + ' alerts' : '—') },
      { title: 'Open incidents', class: 'num', cell: (c) => String((c.progress_to_incident_cnts?.Triggered || 0) + (c.progress_to_incident_cnts?.Processing || 0)) },
      { title: 'Last incident', cell: (c) => fmtTime(c.last_incident_at) },
    ], data.items || [], 'No channels yet: create one above.', 'Channels')));
}

export async function detail(view, [idText]) {
  const id = Number(idText);
  const c = await call('/channel/info', { channel_id: id });
  const g = c.group || { method: 'n' };
  const name = h('input', { name: 'channel_name', value: c.channel_name, maxlength: '59' });
  const desc = h('input', { name: 'description', value: c.description || '' });
  const method = select('group.method', METHODS, g.method);
  const equals = h('textarea', { name: 'group.equals', rows: '3', value: (g.equals || []).map((keys) => keys.join(', ')).join('\n') });
  const allEq = h('input', { type: 'checkbox', name: 'group.all_equals_required', checked: g.all_equals_required });
  const windowMin = h('input', { type: 'number', name: 'group.time_window', min: '0', value: String(g.time_window || 0) });
  const windowType = select('group.window_type', [['tumbling', 'Tumbling: from the incident start'], ['sliding', 'Sliding: from its newest alert']], g.window_type || 'tumbling');
  const storm = h('input', { type: 'number', name: 'group.storm_threshold', min: '0', max: '10000', value: String(g.storm_threshold || 0) });
  const slot = errorSlot();
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
  const form = h('form', { class: 'stack', 'aria-label': 'Edit channel' },
    field('Name', name), field('Description', desc), field('Grouping', method),
    field('Equal label keys', equals, 'One list per line, keys separated by commas: alerts whose values are equal for every key of a list join one incident.'),
    h('label', { class: 'check' }, allEq, ' Every key of a list is required'),
    h('div', { class: 'row' }, field('Time window (minutes, 0 = none)', windowMin), field('Window', windowType)),
    field('Storm threshold (alerts, 0 = off)', storm),
    h('div', { class: 'row' }, save), slot);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const groups = equals.value.split('\n').map((l) => l.split(',').map((k) => k.trim()).filter(Boolean)).filter((l) => l.length);
    const body = { channel_id: id, channel_name: name.value, description: desc.value,
      group: { method: method.value, equals: groups, all_equals_required: allEq.checked,
        time_window: Number(windowMin.value), window_type: windowType.value, storm_threshold: Number(storm.value) } };
    if (await act(save, slot, () => call('/channel/update', body), form)) {
      slot.hidden = false;
      slot.className = 'ok';
      slot.textContent = 'Saved.';
    }
  });
  const stateSlot = errorSlot();
  const enabled = c.status === 'enabled';
  const toggle = h('button', { type: 'button' }, enabled ? 'Disable channel' : 'Enable channel');
  toggle.addEventListener('click', async () => {
    if (await act(toggle, stateSlot, () => call(enabled ? '/channel/disable' : '/channel/enable', { channel_id: id }))) location.reload();
  });
  const del = h('button', { type: 'button', class: 'danger' }, 'Delete channel');
  del.addEventListener('click', async () => {
    if (!confirm('Delete channel ' + c.channel_name + '?')) return;
    if (await act(del, stateSlot, () => call('/channel/delete', { channel_id: id }))) location.hash = '#/channels';
  });
  const rules = await call('/channel/escalate/rule/list', { channel_id: id });
  view.append(pageHeader(c.channel_name, badge(c.status)),
    h('p', { class: 'crumbs' }, h('a', { href: '#/channels' }, 'Channels'), ' / #' + id),
    h('div', { class: 'grid2' }, section('Settings', form),
      section('State', h('p', {}, 'Created ', fmtTime(c.created_at), '.'), h('div', { class: 'row' }, toggle, del), stateSlot)),
    await rulesSection(id),
    escalationRules(id, rules.items || []));
}

// "12, ops@example.com" -> a layer's target: numbers are person ids, the
// rest e-mails of members.
function target(text) {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  const t = {};
  const ids = parts.filter((p) => /^\d+$/.test(p)).map(Number);
  const emails = parts.filter((p) => !/^\d+$/.test(p));
  if (ids.length) t.person_ids = ids;
  if (emails.length) t.emails = emails;
  return t;
}

function layersText(layers) {
  return layers.map((l, n) => {
    const who = [...(l.target?.person_ids || []).map((p) => '#' + p), ...(l.target?.emails || [])].join(', ');
    return `${n}: ${who}` + (n < layers.length - 1 ? ` → after ${l.escalate_window} min` : '');
  }).join(' · ');
}

function escalationRules(channelId, rules) {
  const slot = errorSlot();
  const rows = table([
    { title: 'Rule', class: 'grow', cell: (r) => r.rule_name },
    { title: 'Status', cell: (r) => badge(r.status) },
    { title: 'Priority', class: 'num', cell: (r) => String(r.priority) },
    { title: 'Delay', cell: (r) => (r.aggr_window ? r.aggr_window + ' s' : 'none') },
    { title: 'Layers', cell: (r) => layersText(r.layers || []) },
    { title: '', cell: (r) => {
      const on = r.status === 'enabled';
      const toggle = h('button', { type: 'button' }, on ? 'Disable' : 'Enable');
      toggle.addEventListener('click', async () => {
        if (await act(toggle, slot, () => call(on ? '/channel/escalate/rule/disable' : '/channel/escalate/rule/enable', { channel_id: channelId, rule_id: r.rule_id }))) location.reload();
      });
      const del = h('button', { type: 'button', class: 'danger', 'aria-label': 'Delete rule ' + r.rule_name }, 'Delete');
      del.addEventListener('click', async () => {
        if (!confirm('Delete escalation rule ' + r.rule_name + '?')) return;
        if (await act(del, slot, () => call('/channel/escalate/rule/delete', { channel_id: channelId, rule_id: r.rule_id }))) location.reload();
      });
      return h('span', { class: 'row' }, toggle, del);
    } },
  ], rules, 'No escalation rules: incidents of this channel are assigned to nobody.', 'Escalation rules');
  const name = h('input', { name: 'rule_name', required: true, maxlength: '39' });
  const delay = h('input', { type: 'number', name: 'aggr_window', min: '0', max: '3600', value: '0' });
  const first = h('input', { name: 'layer0', required: true, placeholder: 'person ids or e-mails, comma-separated' });
  const after = h('input', { type: 'number', name: 'escalate_window', min: '0', max: '720', value: '30' });
  const second = h('input', { name: 'layer1', placeholder: 'optional' });
  const force = h('input', { type: 'checkbox', name: 'force_escalate' });
  const create = h('button', { type: 'submit', class: 'primary' }, 'Create rule');
  const form = h('form', { class: 'stack', 'aria-label': 'New escalation rule' },
    h('div', { class: 'row' }, field('Name', name), field('Delay before layer 0 (seconds)', delay)),
    field('Layer 0: who is assigned', first),
    h('div', { class: 'row' }, field('Escalate after (minutes, 0 = at once)', after),
      h('label', { class: 'check' }, force, ' Even when acknowledged')),
    field('Layer 1: who is added', second),
    h('div', { class: 'row' }, create), slot);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const layers = [{ target: target(first.value), escalate_window: Number(after.value), force_escalate: force.checked }];
    if (second.value.trim()) layers.push({ target: target(second.value) });
    const body = { channel_id: channelId, rule_name: name.value, aggr_window: Number(delay.value), layers };
    if (await act(create, slot, () => call('/channel/escalate/rule/create', body), form)) location.reload();
  });
  return section('Escalation rules', rows, h('details', { class: 'card' }, h('summary', {}, 'New escalation rule'), form));
}
