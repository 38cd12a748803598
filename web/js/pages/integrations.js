// pages/integrations.js: alert and change sources (push URL to copy, curl example),
// and the pushing kinds (incident and alert webhooks, custom actions) with
// their editor: endpoint, headers as key/value rows, TLS, channels, event
// types (all or picked), timeout, retry policy, body template with a live
// preview rendered by template.js exactly as the server renders it; test
// send, secret rotation, enable/disable, delete, and delivery health
// (POST /integration/health).
import { call } from '../api.js';
import { h, clear, field, select, fmtTime, fmtDuration, badge, table, dl, errorSlot, showError,
  showFormError, act, copyButton, pageHeader, section } from '../ui.js';
import { render, TEMPLATE_MAX_BYTES } from '../template.js';
import { sampleBody, INCIDENT_TYPES, ALERT_TYPES } from '../samples.js';

const KINDS = {
  alert_standard: 'Standard alert source',
  alert_prometheus: 'Prometheus Alertmanager source',
  change_standard: 'Change event source',
  webhook_incident: 'Incident webhook',
  webhook_alert: 'Alert webhook',
  custom_action: 'Custom action',
};
const isSource = (type) => type.startsWith('alert_') || type === 'change_standard';
const typesOf = (type) => (type === 'webhook_alert' ? ALERT_TYPES : type === 'custom_action' ? ['i_custom'] : INCIDENT_TYPES);

async function channelList() {
  const data = await call('/channel/list', { limit: 100 });
  return data.items || [];
}

function healthSummary(hl) {
  if (!hl) return '—';
  if (!hl.attempts) return h('span', { class: 'muted' }, 'no attempts in 24 h');
  const pct = Math.round(hl.success_rate * 1000) / 10;
  return h('span', {}, badge(pct + '%', pct >= 99 ? 'success' : pct >= 90 ? 'warning' : 'failed'), ` of ${hl.attempts}`);
}

// ---- list ------------------------------------------------------------------

export async function list(view) {
  const [data, channels] = await Promise.all([call('/integration/list', { limit: 100 }), channelList()]);
  const items = data.items || [];
  const chanName = new Map(channels.map((c) => [c.channel_id, c.channel_name]));
  const sources = items.filter((i) => isSource(i.type));
  const pushing = items.filter((i) => !isSource(i.type));
  const health = new Map(await Promise.all(pushing.map(async (i) =>
    [i.integration_id, await call('/integration/health', { integration_id: i.integration_id }).catch(() => null)])));

  const type = select('type', [['alert_standard', 'Standard'], ['alert_prometheus', 'Prometheus Alertmanager'], ['change_standard', 'Change events']], 'alert_standard');
  const name = h('input', { name: 'name', required: true, maxlength: '128' });
  const channel = select('channel_id', [['', 'Choose a channel'], ...channels.map((c) => [String(c.channel_id), c.channel_name])], '');
  const slot = errorSlot();
  const create = h('button', { type: 'submit', class: 'primary' }, 'Create source');
  const form = h('form', { class: 'inline-form', 'aria-label': 'New alert source' },
                 field('Kind', type), field('Name', name), field('Channel', channel), create, slot);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { type: type.value, name: name.value };
    if (channel.value) body.channel_id = Number(channel.value);
    const made = await act(create, slot, () => call('/integration/create', body), form);
    if (made) location.hash = '#/integrations/' + made.integration_id;
  });

  view.append(pageHeader('Integrations',
    h('a', { class: 'button primary', href: '#/integrations/new?type=webhook_incident' }, 'New incident webhook'),
    h('a', { class: 'button', href: '#/integrations/new?type=webhook_alert' }, 'New alert webhook'),
    h('a', { class: 'button', href: '#/integrations/new?type=custom_action' }, 'New custom action')));
  view.append(section('Webhooks and custom actions', table([
    { title: 'Name', class: 'grow', cell: (i) => h('a', { href: '#/integrations/' + i.integration_id }, i.name) },
    { title: 'Kind', cell: (i) => KINDS[i.type] },
    { title: 'Endpoint', cell: (i) => h('code', { class: 'clip' }, i.endpoint) },
    { title: 'Status', cell: (i) => badge(i.status) },
    { title: 'Success (24 h)', cell: (i) => healthSummary(health.get(i.integration_id)) },
    { title: 'Pending', class: 'num', cell: (i) => String(health.get(i.integration_id)?.pending ?? '—') },
  ], pushing, 'No webhooks or custom actions yet.', 'Webhooks and custom actions')));
  view.append(section('Alert sources', table([
    { title: 'Name', class: 'grow', cell: (i) => h('a', { href: '#/integrations/' + i.integration_id }, i.name) },
    { title: 'Kind', cell: (i) => KINDS[i.type] },
    { title: 'Channel', cell: (i) => chanName.get(i.channel_id) || '#' + i.channel_id },
    { title: 'Status', cell: (i) => badge(i.status) },
    { title: 'Push URL', cell: (i) => (i.push_url ? h('span', { class: 'copyable' }, h('code', { class: 'clip' }, i.push_url), copyButton(() => i.push_url)) : h('span', { class: 'muted' }, 'administrators only')) },
  ], sources, 'No alert sources yet.', 'Alert sources'), h('h3', {}, 'New alert source'), form));
}

// ---- alert source ------------------------------------------------------------

function curlExample(src) {
  if (src.type === 'change_standard')
    return `curl -X POST '${src.push_url}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{"change_key":"deploy-1042","change_status":"Processing","title":"Deploy api v1.4.2","link":"https://ci.example.com/1042","labels":{"service":"api"}}'`;
  if (src.type === 'alert_prometheus')
    return `curl -X POST '${src.push_url}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HighCPU","severity":"critical","host":"db1"},"annotations":{"summary":"CPU hot on db1"},"startsAt":"2024-01-01T00:00:00Z","fingerprint":"a1b2c3"}]}'`;
  return `curl -X POST '${src.push_url}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{"title_rule":"CPU hot on $host","event_status":"Critical","alert_key":"cpu-db1","description":"cpu > 90%","labels":{"host":"db1"}}'`;
}

async function sourcePage(view, src) {
  const channels = await channelList();
  const name = h('input', { name: 'name', value: src.name, maxlength: '128' });
  const desc = h('input', { name: 'description', value: src.description || '' });
  const slot = errorSlot();
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
  const form = h('form', { class: 'stack', 'aria-label': 'Edit alert source' }, field('Name', name), field('Description', desc), h('div', { class: 'row' }, save), slot);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (await act(save, slot, () => call('/integration/update', { integration_id: src.integration_id, name: name.value, description: desc.value }), form)) showSaved(slot);
  });
  const channel = channels.find((c) => c.channel_id === src.channel_id);
  const push = src.push_url
    ? [h('div', { class: 'copyable' }, h('code', { class: 'url' }, src.push_url), copyButton(() => src.push_url, 'Copy URL')),
      h('h3', {}, 'Try it with curl'), h('pre', { class: 'code' }, curlExample(src)), copyButton(() => curlExample(src), 'Copy command')]
    : h('p', { class: 'muted' }, 'Only administrators see the push URL (its key lets anyone push alerts).');
  view.append(pageHeader(src.name, badge(src.status)),
    h('p', { class: 'crumbs' }, h('a', { href: '#/integrations' }, 'Integrations'), ' / ', KINDS[src.type]),
    section('Push URL', push),
    h('div', { class: 'grid2' },
      section('Settings', dl([['Kind', KINDS[src.type]], ['Channel', channel ? h('a', { href: '#/channels/' + channel.channel_id }, channel.channel_name) : '#' + src.channel_id], ['Created', fmtTime(src.created_at)]]), form),
      section('State', stateButtons(src))));
}

function showSaved(slot) {
  slot.hidden = false;
  slot.className = 'ok';
  slot.textContent = 'Saved.';
  setTimeout(() => { slot.hidden = true; slot.className = 'error'; }, 3000);
}

function stateButtons(it) {
  const slot = errorSlot();
  const enabled = it.status === 'enabled';
  const toggle = h('button', { type: 'button' }, enabled ? 'Disable' : 'Enable');
  toggle.addEventListener('click', async () => {
    if (await act(toggle, slot, () => call(enabled ? '/integration/disable' : '/integration/enable', { integration_id: it.integration_id }))) location.reload();
  });
  const del = h('button', { type: 'button', class: 'danger' }, 'Delete');
  del.addEventListener('click', async () => {
    if (!confirm('Delete ' + it.name + '?')) return;
    if (await act(del, slot, () => call('/integration/delete', { integration_id: it.integration_id }))) location.hash = '#/integrations';
  });
  return [it.disabled_reason ? h('p', { class: 'warn' }, 'Disabled: ' + it.disabled_reason) : null,
    h('div', { class: 'row' }, toggle, del), slot];
}

// ---- the editor of pushing kinds -------------------------------------------------

function headerRow(list, key = '', value = '') {
  const k = h('input', { 'aria-label': 'Header name', placeholder: 'X-Header', value: key, class: 'hkey' });
  const v = h('input', { 'aria-label': 'Header value', placeholder: 'value', value, class: 'hval' });
  const nameIt = () => { k.name = k.value ? 'headers.' + k.value : ''; };
  k.addEventListener('input', nameIt);
  nameIt();
  const remove = h('button', { type: 'button', class: 'small ghost', 'aria-label': 'Remove header' }, 'Remove');
  const row = h('div', { class: 'header-row' }, k, v, remove);
  remove.addEventListener('click', () => { row.remove(); });
  list.append(row);
  return row;
}

function editor(it, channels, onSaved) {
  const type = it.type;
  const custom = type === 'custom_action';
  const name = h('input', { name: 'name', value: it.name || '', required: true, maxlength: '128' });
  const desc = h('input', { name: 'description', value: it.description || '' });
  const endpoint = h('input', { name: 'endpoint', type: 'url', value: it.endpoint || '', placeholder: 'https://example.com/hook', required: true });
  const headerList = h('div', { class: 'header-list' });
  for (const [k, v] of Object.entries(it.headers || {})) headerRow(headerList, k, v);
  const addHeader = h('button', { type: 'button', class: 'small' }, 'Add header');
  addHeader.addEventListener('click', () => headerRow(headerList).querySelector('input').focus());
  const tls = h('input', { type: 'checkbox', name: 'tls_verify', checked: it.tls_verify !== false });
  const timeout = h('input', { type: 'number', name: 'timeout_ms', min: '1', max: '10000', value: String(it.timeout_ms || 1000) });
  const chosenChannels = new Set(it.channel_ids || []);
  const channelBoxes = h('fieldset', { class: 'checks', name: 'channel_ids' },
    h('legend', {}, custom ? 'Channels (at least one)' : 'Channels (none ticked = all channels)'),
    channels.length ? channels.map((c) => h('label', {}, h('input', { type: 'checkbox', class: 'chan', value: String(c.channel_id), checked: chosenChannels.has(c.channel_id) }), ' ', c.channel_name))
      : h('span', { class: 'muted' }, 'No channels yet.'));
  const picked = new Set(it.event_types || []);
  const allTypes = h('input', { type: 'radio', name: 'event_scope', value: 'all', checked: !picked.size });
  const someTypes = h('input', { type: 'radio', name: 'event_scope', value: 'some', checked: picked.size > 0 });
  const typeBoxes = h('div', { class: 'checks type-list' }, typesOf(type).map((t) =>
    h('label', {}, h('input', { type: 'checkbox', class: 'etype', value: t, checked: picked.has(t) }), ' ', h('code', {}, t))));
  const syncTypes = () => { typeBoxes.hidden = allTypes.checked; };
  allTypes.addEventListener('change', syncTypes);
  someTypes.addEventListener('change', syncTypes);
  syncTypes();
  const eventTypes = custom ? null : h('fieldset', { name: 'event_types' }, h('legend', {}, 'Event types'),
    h('label', { class: 'check' }, allTypes, ' All'), h('label', { class: 'check' }, someTypes, ' Only these:'), typeBoxes);
  const retry = it.retry || { max_attempts: 8, schedule_s: [1, 5, 30, 120, 600, 1800, 3600] };
  const attempts = h('input', { type: 'number', name: 'retry.max_attempts', min: '1', value: String(retry.max_attempts) });
  const schedule = h('input', { name: 'retry.schedule_s', value: (retry.schedule_s || []).join(', ') });
  const ordered = h('input', { type: 'checkbox', name: 'ordered', checked: it.ordered !== false });
  const signing = h('input', { type: 'checkbox', name: 'signing', checked: it.signing !== false });

  // Body template and its live preview.
  const tmpl = h('textarea', { name: 'body_template', rows: '8', class: 'mono', spellcheck: 'false', value: it.body_template || '',
    placeholder: '{"title": "{{incident.title}}", "labels": "{{incident.labels}}"}' });
  const sampleType = select('sample_type', typesOf(type), typesOf(type)[0]);
  sampleType.setAttribute('aria-label', 'Sample event type');
  const preview = h('pre', { class: 'code preview', 'aria-live': 'polite', id: 'template-preview' });
  const previewNote = h('p', { class: 'muted small' });
  const updatePreview = () => {
    const body = sampleBody(sampleType.value);
    if (!tmpl.value) {
      preview.className = 'code preview';
      preview.textContent = JSON.stringify(JSON.parse(body), null, 2);
      previewNote.textContent = 'No template: the default body is sent (shown).';
      return;
    }
    const r = render(tmpl.value, body);
    preview.className = 'code preview' + (r.ok ? '' : ' bad');
    preview.textContent = r.ok ? r.pretty : r.error;
    previewNote.textContent = r.ok ? `Sent as ${new TextEncoder().encode(r.text).length} bytes of compact JSON.` : 'The server refuses this template:';
  };
  tmpl.addEventListener('input', updatePreview);
  sampleType.addEventListener('change', updatePreview);
  updatePreview();
  const templateBlock = custom ? null : section('Body template',
    h('p', { class: 'muted small' }, 'JSON in which {{a.b.c}} names a path into the default body; a string that is exactly one variable takes the value\'s own type. Empty = the default body. At most ' + TEMPLATE_MAX_BYTES / 1024 + ' KiB.'),
    h('div', { class: 'grid2 tight' },
      field('Template', tmpl),
      h('div', { class: 'field' }, h('div', { class: 'row between' }, h('span', { class: 'label' }, 'Preview'), sampleType), previewNote, preview)));

  const slot = errorSlot();
  const save = h('button', { type: 'submit', class: 'primary' }, it.integration_id ? 'Save' : 'Create');
  const form = h('form', { class: 'stack editor', 'aria-label': 'Integration settings', novalidate: true },
    section('Endpoint',
      h('div', { class: 'row' }, field('Name', name), field('Description', desc)),
      field('Endpoint URL', endpoint),
      h('fieldset', { name: 'headers' }, h('legend', {}, 'Headers'), headerList, addHeader),
      h('div', { class: 'row' }, h('label', { class: 'check' }, tls, ' Verify TLS certificates'), field('Timeout (ms)', timeout))),
    section('What it receives', channelBoxes, eventTypes),
    templateBlock,
    section('Delivery policy',
      h('div', { class: 'row' }, field('Max attempts', attempts), field('Retry delays (seconds, comma-separated)', schedule)),
      h('div', { class: 'row' }, h('label', { class: 'check' }, ordered, ' Ordered per incident/alert'), h('label', { class: 'check' }, signing, ' Sign (Standard Webhooks)'))),
    h('div', { class: 'row save-bar' }, save, slot));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const headers = {};
    for (const row of headerList.children) {
      const k = row.querySelector('.hkey').value.trim();
      if (k) headers[k] = row.querySelector('.hval').value;
    }
    const body = { type, name: name.value, description: desc.value, endpoint: endpoint.value.trim(), headers,
      tls_verify: tls.checked, timeout_ms: Number(timeout.value),
      channel_ids: [...channelBoxes.querySelectorAll('.chan:checked')].map((c) => Number(c.value)),
      retry: { max_attempts: Number(attempts.value), schedule_s: schedule.value.split(',').map((s) => s.trim()).filter(Boolean).map(Number) },
      ordered: ordered.checked, signing: signing.checked };
    if (!custom) {
      body.event_types = allTypes.checked ? [] : [...typeBoxes.querySelectorAll('.etype:checked')].map((c) => c.value);
      body.body_template = tmpl.value;
    }
    if (it.integration_id) body.integration_id = it.integration_id;
    const data = await act(save, slot, () => call(it.integration_id ? '/integration/update' : '/integration/create', body), form);
    if (data) onSaved(data, slot);
  });
  return form;
}

function healthPanel(hl) {
  if (!hl) return h('p', { class: 'muted' }, 'Health unavailable.');
  const pct = hl.attempts ? Math.round(hl.success_rate * 1000) / 10 + '%' : 'no attempts';
  return dl([
    ['Success rate (24 h)', h('span', { class: 'health-rate' }, pct)],
    ['Attempts (24 h)', `${hl.attempts} (${hl.failures} failed)`],
    ['Last success', fmtTime(hl.last_success_at, 'ms')],
    ['Last error', hl.last_error ? h('span', { class: 'failed-text' }, hl.last_error) : ''],
    ['Last error at', fmtTime(hl.last_error_at, 'ms')],
    ['Pending', String(hl.pending)],
    ['Lag', hl.pending ? fmtDuration(hl.lag_ms) : 'none'],
    ['State', hl.enabled ? badge('enabled') : [badge(hl.status), ' ', hl.disabled_reason]],
  ]);
}

function testPanel(it) {
  const type = select('event_type', typesOf(it.type), typesOf(it.type)[0]);
  const slot = errorSlot();
  const out = h('div', { class: 'test-result', 'aria-live': 'polite' });
  const send = h('button', { type: 'button' }, 'Send test event');
  send.addEventListener('click', async () => {
    clear(out);
    const r = await act(send, slot, () => call('/integration/test', { integration_id: it.integration_id, event_type: type.value }));
    if (!r) return;
    clear(out, h('p', {}, badge(r.success ? 'success' : 'failed', r.success ? 'success' : 'failed'),
      r.status_code ? ` HTTP ${r.status_code}` : '', ` in ${r.duration_ms} ms`, r.message ? ' — ' + r.message : ''),
      r.response_body ? h('pre', { class: 'code small' }, r.response_body) : null,
      h('p', { class: 'small' }, h('a', { href: `#/history?integration=${it.integration_id}&event=${r.event_id}` }, 'See it in history')));
  });
  return [h('div', { class: 'row' }, field('Event type', type), send), slot, out];
}

// The API sends signing secrets to administrators only; for anyone else
// there is nothing to show or copy, only the rotate button, whose refusal
// (AccessDenied) is shown next to it.
function secretPanel(it, fresh) {
  const secret = fresh || it.signing_secret || '';
  const shown = h('code', { class: 'secret' }, secret);
  const hidden = h('p', { class: 'muted secret-hidden' }, 'No secret shown: only administrators see it (and only when signing is on).');
  const box = h('div', { class: 'copyable', hidden: !secret }, shown, copyButton(() => shown.textContent));
  const slot = errorSlot();
  const rotate = h('button', { type: 'button' }, 'Rotate secret');
  rotate.addEventListener('click', async () => {
    if (!confirm('Make a new signing secret? The old one keeps signing for 24 hours.')) return;
    const r = await act(rotate, slot, () => call('/integration/rotate-secret', { integration_id: it.integration_id }));
    if (r) {
      shown.textContent = r.signing_secret;
      box.hidden = false;
      hidden.hidden = true;
      slot.hidden = false;
      slot.className = 'ok';
      slot.textContent = 'New secret made; the old one stays valid for 24 hours.';
    }
  });
  return [box, secret ? null : hidden, h('div', { class: 'row' }, rotate), slot];
}

async function pushingPage(view, it, fresh) {
  const [channels, hl] = await Promise.all([channelList(),
    call('/integration/health', { integration_id: it.integration_id }).catch(() => null)]);
  view.append(pageHeader(it.name, badge(it.status)),
    h('p', { class: 'crumbs' }, h('a', { href: '#/integrations' }, 'Integrations'), ' / ', KINDS[it.type]));
  if (fresh) view.append(h('p', { class: 'ok', role: 'status' }, 'Created. Copy the signing secret now if the receiver checks signatures.'));
  const form = editor(it, channels, (_data, slot) => showSaved(slot));
  view.append(h('div', { class: 'layout-side' }, form,
    h('aside', {},
      section('Health', healthPanel(hl), h('p', { class: 'small' }, h('a', { href: '#/history?integration=' + it.integration_id }, 'Invocation history'))),
      section('Test', testPanel(it)),
      section('Signing secret', secretPanel(it, fresh)),
      section('State', stateButtons(it)))));
}

export async function detail(view, [idText], ctx) {
  const it = await call('/integration/info', { integration_id: Number(idText) });
  if (isSource(it.type)) return sourcePage(view, it);
  // The secret create returned, handed over once through session storage
  // (never through the URL, which history keeps).
  const key = 'tocsin.new_secret.' + it.integration_id;
  const fresh = sessionStorage.getItem(key);
  sessionStorage.removeItem(key);
  return pushingPage(view, it, fresh);
}

export async function create(view, _params, ctx) {
  const type = ctx.query.get('type') || 'webhook_incident';
  if (!KINDS[type] || isSource(type)) {
    view.append(h('p', { class: 'error' }, 'Unknown kind: ' + type));
    return;
  }
  const channels = await channelList();
  view.append(pageHeader('New ' + KINDS[type].toLowerCase()),
    h('p', { class: 'crumbs' }, h('a', { href: '#/integrations' }, 'Integrations'), ' / new'));
  view.append(editor({ type, event_types: type === 'custom_action' ? ['i_custom'] : [] }, channels, (data) => {
    if (data.signing_secret) sessionStorage.setItem('tocsin.new_secret.' + data.integration_id, data.signing_secret);
    location.hash = '#/integrations/' + data.integration_id;
  }));
}
