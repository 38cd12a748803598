// console.test.mjs: the web console driven as a person would, in Debian's
// chromium through playwright-core (headless). Started by
// tests/e2e/test_console.py, which starts tocsin and a recording receiver,
// prepares a channel, an alert source, a pushed event and two custom actions,
// and afterwards checks what the receiver got.
//
// Environment: TOCSIN_URL, TOCSIN_ADMIN_KEY, RECEIVER_URL, INCIDENT_TITLE,
// MEMBER_KEY and MEMBER_ID (a person without the administrator role),
// CHROMIUM (default /usr/bin/chromium), TOCSIN_SCREENSHOTS (a folder: PNGs
// of the main pages are written there), TOCSIN_ARTIFACTS (a folder for a
// screenshot of a failure).
//
// Every step asserts what the page shows and, where it matters, what the
// API says afterwards. Waits are bounded (playwright timeouts). The last
// line is "RESULT {json}" with the ids the Python side checks further.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import path from 'node:path';

const URL = process.env.TOCSIN_URL;
const KEY = process.env.TOCSIN_ADMIN_KEY;
const RX = process.env.RECEIVER_URL;
const TITLE = process.env.INCIDENT_TITLE;
const MEMBER_KEY = process.env.MEMBER_KEY;
const MEMBER_ID = Number(process.env.MEMBER_ID);
const SHOTS = process.env.TOCSIN_SCREENSHOTS || '';
const ARTIFACTS = process.env.TOCSIN_ARTIFACTS || '';
const TIMEOUT = 10000;

async function api(p, body = {}) {
  const r = await fetch(`${URL}${p}?app_key=${encodeURIComponent(KEY)}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const env = await r.json();
  if (env.error) throw new Error(`${p}: ${env.error.code}: ${env.error.message}`);
  return env.data;
}

// Polls fn (an API check) until it returns a truthy value; bounded.
async function eventually(fn, what, timeoutMs = TIMEOUT) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

async function shot(page, name) {
  if (!SHOTS) return;
  // From the top: a full-page capture of a scrolled page would paint the
  // sticky header in the middle.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(150); // let fonts and layout settle
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
}

const result = {};
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless=new'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
page.setDefaultTimeout(TIMEOUT);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
// The API errors this test provokes on purpose show up as failed loads;
// anything else logged as an error is a fault of the console.
page.on('console', (m) => {
  if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) pageErrors.push(m.text());
});
page.on('dialog', (d) => d.accept());
const steps = [];
const step = (name, fn) => steps.push([name, fn]);

step('the console is served and a wrong key is refused in words', async () => {
  await page.goto(URL + '/');
  await page.fill('input[name=app_key]', 'not-a-key');
  await page.click('form.login button[type=submit]');
  const err = page.locator('form.login .error');
  await err.waitFor();
  assert.match(await err.textContent(), /Unauthorized/);
  assert.equal(await page.locator('.nav').count(), 0);
});

step('log in with the admin key', async () => {
  await page.fill('input[name=app_key]', KEY);
  await page.click('form.login button[type=submit]');
  await page.locator('.nav').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tocsin.app_key')), KEY);
});

step('the incident created by the pushed event is listed', async () => {
  await page.goto(URL + '/#/incidents');
  const link = page.getByRole('link', { name: TITLE });
  await link.waitFor();
  const row = page.locator('tr', { has: link });
  assert.match(await row.textContent(), /Triggered/);
  assert.match(await row.textContent(), /Critical/);
  const href = await link.getAttribute('href');
  result.incident_id = href.split('/').pop();
  await shot(page, 'incidents');
});

step('create an incident webhook with a header and a body template (live preview)', async () => {
  await page.goto(URL + '/#/integrations');
  await page.getByRole('link', { name: 'New incident webhook' }).click();
  await page.fill('input[name=name]', 'Ticketing');
  await page.fill('input[name=endpoint]', RX + '/ok/console-hook');
  await page.getByRole('button', { name: 'Add header' }).click();
  await page.fill('.header-row .hkey', 'X-Console');
  await page.fill('.header-row .hval', 'console-test');
  const tmpl = '{"title": "{{incident.title}}", "severity": "{{incident.incident_severity}}", ' +
    '"labels": "{{incident.labels}}", "who": "{{person.person_name}}", "first_responder": ' +
    '"{{incident.responders.0.person_name}}", "kept": "{{incident.nope}}", "n": 1.5, "big": 9007199254740993}';
  await page.fill('textarea[name=body_template]', tmpl);
  const preview = page.locator('#template-preview');
  // The sample i_new body: title and labels rendered, the missing path kept.
  await assert.doesNotReject(async () => page.waitForFunction(() => document.querySelector('#template-preview').textContent.includes('"CPU hot on db1"')));
  const text = await preview.textContent();
  assert.match(text, /"labels": \{\n\s+"host": "db1"/);
  assert.match(text, /"kept": "\{\{incident.nope\}\}"/);
  assert.match(text, /"big": 9007199254740993/);
  assert.match(text, /"n": 1.5/);
  // A broken template is shown as the server's own refusal.
  await page.fill('textarea[name=body_template]', '{"t": "{{incident..title}}"}');
  await page.waitForFunction(() => document.querySelector('#template-preview').textContent.includes('malformed variable'));
  await page.fill('textarea[name=body_template]', tmpl);
  await page.getByLabel('Sample event type').selectOption('i_ack');
  await page.waitForFunction(() => document.querySelector('#template-preview').textContent.includes('"who": "Ada Lovelace"'));
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForURL(/#\/integrations\/\d+$/);
  result.webhook_id = Number(page.url().split('/').pop());
  await page.locator('p.ok', { hasText: 'Created' }).waitFor();
  assert.match(await page.locator('code.secret').textContent(), /^whsec_/);
  const info = await api('/integration/info', { integration_id: result.webhook_id });
  assert.equal(info.type, 'webhook_incident');
  assert.equal(info.endpoint, RX + '/ok/console-hook');
  assert.deepEqual(info.headers, { 'X-Console': 'console-test' });
  assert.equal(info.body_template, tmpl);
  assert.deepEqual(info.event_types, []);
  result.template = tmpl;
});

step('a bad endpoint gets the API error next to the endpoint field, and nothing changes', async () => {
  await page.fill('input[name=endpoint]', 'ftp://nowhere.example/hook');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const note = page.locator('.field-error');
  await note.waitFor();
  assert.match(await note.textContent(), /endpoint must start with http:\/\/ or https:\/\//);
  assert.equal(await page.locator('input[name=endpoint]').getAttribute('aria-invalid'), 'true');
  // The note sits right under the endpoint field.
  assert.equal(await page.evaluate(() => document.querySelector('.field-error').previousElementSibling.contains(document.querySelector('input[name=endpoint]'))), true);
  assert.match(await page.locator('.save-bar .error').textContent(), /InvalidParameter/);
  const info = await api('/integration/info', { integration_id: result.webhook_id });
  assert.equal(info.endpoint, RX + '/ok/console-hook');
  await page.fill('input[name=endpoint]', RX + '/ok/console-hook');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('.save-bar .ok', { hasText: 'Saved.' }).waitFor();
  assert.equal(await page.locator('.field-error').count(), 0);
  await page.locator('#template-preview').scrollIntoViewIfNeeded();
  await shot(page, 'integration-editor');
});

step('the test button sends a sample event and shows the outcome', async () => {
  await page.getByRole('button', { name: 'Send test event' }).click();
  const out = page.locator('.test-result');
  await out.locator('.badge').waitFor();
  assert.match(await out.textContent(), /success HTTP 200/);
});

step('custom actions show their outcome when pressed', async () => {
  await page.goto(URL + '/#/incidents/' + result.incident_id);
  await page.locator('h1', { hasText: TITLE }).waitFor();
  const ok = page.locator('.custom-actions li', { hasText: 'Restart service' });
  await ok.getByRole('button').click();
  await ok.locator('output.result.success').waitFor();
  assert.equal(await ok.locator('output').textContent(), 'Succeeded');
  const bad = page.locator('.custom-actions li', { hasText: 'Page the DBA' });
  await bad.getByRole('button').click();
  await bad.locator('output.result.failed').waitFor();
  assert.match(await bad.locator('output').textContent(), /^Failed: .*500/);
  // The timeline records both outcomes once the page reloads its data.
  await page.locator('.timeline .feed-i_custom').nth(1).waitFor();
  await shot(page, 'incident-detail');
});

step('the incident page shows the changes around it (Change History)', async () => {
  const inc = await api('/incident/info', { incident_id: result.incident_id });
  const src = await api('/integration/create', { type: 'change_standard', name: 'console deploys', channel_id: inc.channel_id });
  const pushChange = async (body) => {
    const r = await fetch(`${URL}/event/push/change/standard?integration_key=${src.integration_key}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const env = await r.json();
    assert.equal(r.status, 200, JSON.stringify(env));
  };
  const now = Math.floor(Date.now() / 1000);
  await pushChange({ change_key: 'DEP-7', change_status: 'Processing', title: 'Deploy api v7', event_time: now - 1800,
    description: 'canary first', link: 'https://ci.example.com/7' });
  // The newest event's description and link are the change's.
  await pushChange({ change_key: 'DEP-7', change_status: 'Done', title: 'Deploy api v7', event_time: now - 1200,
    description: 'canary first, then all', link: 'https://ci.example.com/7' });
  // Over before the 2 hours that count: not shown.
  await pushChange({ change_key: 'OLD-1', change_status: 'Processing', title: 'Old migration', event_time: now - 5 * 3600 });
  await pushChange({ change_key: 'OLD-1', change_status: 'Done', title: 'Old migration', event_time: now - 4 * 3600 });
  // Already on the incident's page: load it again to read the new changes.
  await page.reload();
  await page.locator('h1', { hasText: TITLE }).waitFor();
  const history = page.locator('section', { has: page.locator('h2', { hasText: 'Change History' }) });
  const row = history.locator('tr', { hasText: 'DEP-7' });
  await row.waitFor();
  const text = await row.textContent();
  assert.match(text, /Done/);
  assert.match(text, /Deploy api v7/);
  assert.match(text, /canary first, then all/);
  assert.match(text, /console deploys/);
  assert.match(text, /10 min/);
  assert.equal(await row.getByRole('link', { name: 'https://ci.example.com/7' }).getAttribute('href'), 'https://ci.example.com/7');
  assert.equal(await history.locator('tr', { hasText: 'OLD-1' }).count(), 0);
  result.change_integration_id = src.integration_id;
});

step('acknowledge the incident', async () => {
  await page.getByRole('button', { name: 'Acknowledge' }).click();
  await page.locator('.page-head .badge-processing').waitFor();
  await page.getByRole('button', { name: 'Unacknowledge' }).waitFor();
  const inc = await api('/incident/info', { incident_id: result.incident_id });
  assert.equal(inc.progress, 'Processing');
  assert.ok(inc.ack_time > 0);
});

step('comment, and edit the impact', async () => {
  await page.fill('textarea[name=comment]', 'looking at it from the console');
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await page.locator('.timeline li', { hasText: 'looking at it from the console' }).waitFor();
  await page.locator('details.card summary').click();
  await page.fill('textarea[name=impact]', 'checkout slow for EU users');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('dd', { hasText: 'checkout slow for EU users' }).waitFor();
  const inc = await api('/incident/info', { incident_id: result.incident_id });
  assert.equal(inc.impact, 'checkout slow for EU users');
});

step('resolve the incident; reopening without a reason is refused in words', async () => {
  await page.getByRole('button', { name: 'Resolve' }).click();
  await page.locator('.page-head .badge-closed').waitFor();
  const inc = await api('/incident/info', { incident_id: result.incident_id });
  assert.equal(inc.progress, 'Closed');
  assert.ok(inc.close_time > 0);
  await page.getByRole('button', { name: 'Reopen' }).click();
  const err = page.locator('.actions .error');
  await err.waitFor();
  assert.match(await err.textContent(), /InvalidParameter: .*reason/);
  assert.equal((await api('/incident/info', { incident_id: result.incident_id })).progress, 'Closed');
});

step('the webhook deliveries are in the history; one opens with request and response; resend', async () => {
  await eventually(async () => {
    const now = Date.now();
    const d = await api('/webhook/history/list', { limit: 50, start_time: now - 3600e3, end_time: now + 60e3, integration_id: result.webhook_id });
    const types = new Set(d.items.filter((i) => i.status === 'success').map((i) => i.event_type));
    return types.has('i_ack') && types.has('i_rslv');
  }, 'the i_ack and i_rslv deliveries');
  await page.goto(URL + '/#/history');
  await page.locator('select[name=integration_id]').selectOption(String(result.webhook_id));
  await page.getByRole('button', { name: 'Search' }).click();
  const row = page.locator('tbody tr', { hasText: 'i_ack' }).filter({ hasText: result.incident_id }).first();
  await row.waitFor();
  assert.match(await row.textContent(), /success 200/);
  assert.equal(await page.locator('tbody tr', { hasText: 'Restart service' }).count(), 0);
  await row.getByRole('button', { name: 'Details' }).click();
  const panel = page.locator('.detail-panel');
  await panel.waitFor();
  assert.match(await panel.getByLabel('Request headers').textContent(), /X-Console: console-test/);
  const body = JSON.parse(await panel.getByLabel('Request body').textContent());
  assert.equal(body.title, TITLE);
  assert.equal(body.severity, 'Critical');
  assert.equal(body.kept, '{{incident.nope}}');
  assert.match(await panel.getByLabel('Response body').textContent(), /ok/);
  await shot(page, 'history');
  await panel.getByRole('button', { name: 'Resend' }).click();
  await panel.locator('p.ok', { hasText: 'Queued' }).waitFor();
});

step('a history window longer than 7 days is refused next to the time fields', async () => {
  await page.locator('input[name=start_time]').fill('2020-01-01T00:00');
  await page.getByRole('button', { name: 'Search' }).click();
  const note = page.locator('form.filters .error');
  await note.waitFor();
  assert.match(await note.textContent(), /7 days/);
});

step('the integration page shows its health', async () => {
  await page.goto(URL + '/#/integrations/' + result.webhook_id);
  const rate = page.locator('.health-rate');
  await rate.waitFor();
  assert.equal(await rate.textContent(), '100%');
  await page.goto(URL + '/#/integrations');
  const row = page.locator('tr', { hasText: 'Page the DBA' });
  await row.waitFor();
  assert.match(await row.textContent(), /0% of/);
  const src = page.locator('tr', { hasText: 'console-source' });
  assert.match(await src.textContent(), /event\/push\/alert\/standard\?integration_key=/);
});

step('create and edit a channel', async () => {
  await page.goto(URL + '/#/channels');
  await page.fill('input[name=channel_name]', 'Checkout');
  await page.getByRole('button', { name: 'Create channel' }).click();
  await page.waitForURL(/#\/channels\/\d+$/);
  const id = Number(page.url().split('/').pop());
  await page.locator('select[name="group.method"]').selectOption('p');
  await page.fill('textarea[name="group.equals"]', 'service, region\nhost');
  await page.fill('input[name="group.time_window"]', '15');
  await page.fill('input[name="group.storm_threshold"]', '20');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('form .ok', { hasText: 'Saved.' }).waitFor();
  const c = await api('/channel/info', { channel_id: id });
  assert.equal(c.group.method, 'p');
  assert.deepEqual(c.group.equals, [['service', 'region'], ['host']]);
  assert.equal(c.group.time_window, 15);
  assert.equal(c.group.storm_threshold, 20);
  await page.goto(URL + '/#/channels');
  await page.getByRole('link', { name: 'Checkout' }).waitFor();
  await shot(page, 'channels');
});

step('a channel\'s drop, silence and inhibit rules', async () => {
  const ch = (await api('/channel/list', { limit: 100 })).items.find((c) => c.channel_name === 'Checkout');
  result.rules_channel_id = ch.channel_id;
  await page.goto(URL + '/#/channels/' + ch.channel_id);
  const form = page.getByRole('form', { name: 'New rule' });
  await form.locator('select[name=kind]').selectOption('unsubscribe');
  await form.locator('input[name=rule_name]').fill('Drop test env');
  await form.locator('input[name=key]').fill('labels.env');
  await form.locator('input[name=vals]').fill('test, /^dev-/');
  await form.getByRole('button', { name: 'Create rule' }).click();
  const drops = page.locator('.rules-unsubscribe');
  await drops.locator('tr', { hasText: 'Drop test env' }).waitFor();
  let list = (await api('/channel/unsubscribe/rule/list', { channel_id: ch.channel_id })).items;
  assert.deepEqual(list.map((r) => [r.rule_name, r.status]), [['Drop test env', 'enabled']]);
  assert.deepEqual(list[0].filters, [[{ key: 'labels.env', oper: 'IN', vals: ['test', '/^dev-/'] }]]);
  // A bad regex is refused in words, naming the value.
  await form.locator('input[name=rule_name]').fill('Broken');
  await form.locator('input[name=vals]').fill('/(/');
  await form.getByRole('button', { name: 'Create rule' }).click();
  await form.locator('.error', { hasText: 'filters[0][0].vals[0] is not a valid regular expression' }).first().waitFor();
  // Disable, enable, delete from the table.
  await drops.locator('tr', { hasText: 'Drop test env' }).getByRole('button', { name: 'Disable' }).click();
  await drops.locator('tr', { hasText: 'Drop test env' }).getByRole('button', { name: 'Enable' }).waitFor();
  list = (await api('/channel/unsubscribe/rule/list', { channel_id: ch.channel_id })).items;
  assert.equal(list[0].status, 'disabled');
  await drops.locator('tr', { hasText: 'Drop test env' }).getByRole('button', { name: 'Enable' }).click();
  await drops.locator('tr', { hasText: 'Drop test env' }).getByRole('button', { name: 'Disable' }).waitFor();
  assert.equal((await api('/channel/unsubscribe/rule/list', { channel_id: ch.channel_id })).items[0].status, 'enabled');
  // A silence with its one-off window, and an inhibit rule.
  await form.locator('select[name=kind]').selectOption('silence');
  await form.locator('input[name=rule_name]').fill('Maintenance');
  await form.locator('input[name=key]').fill('labels.muted');
  await form.locator('input[name=vals]').fill('yes');
  await form.getByRole('button', { name: 'Create rule' }).click();
  await page.locator('.rules-silence tr', { hasText: 'Maintenance' }).waitFor();
  await form.locator('select[name=kind]').selectOption('inhibit');
  await form.locator('input[name=rule_name]').fill('Symptoms');
  await form.locator('input[name=key]').fill('severity');
  await form.locator('input[name=vals]').fill('Info');
  await form.locator('input[name=equals]').fill('labels.cluster');
  await form.getByRole('button', { name: 'Create rule' }).click();
  await page.locator('.rules-inhibit tr', { hasText: 'Symptoms' }).waitFor();
  const inh = (await api('/channel/inhibit/rule/list', { channel_id: ch.channel_id })).items;
  assert.deepEqual(inh.map((r) => [r.rule_name, r.equals]), [['Symptoms', ['labels.cluster']]]);
  const sil = (await api('/channel/silence/rule/list', { channel_id: ch.channel_id })).items;
  assert.equal(sil.length, 1);
  assert.equal(sil[0].is_effective, true);
  await drops.locator('tr', { hasText: 'Drop test env' }).getByRole('button', { name: 'Delete' }).click();
  await drops.locator('p.empty', { hasText: 'No drop rules.' }).waitFor();
  assert.deepEqual((await api('/channel/unsubscribe/rule/list', { channel_id: ch.channel_id })).items, []);
  await shot(page, 'channel-rules');
});

step('the alerts list shows muted alerts', async () => {
  const chan = result.rules_channel_id;
  const src = await api('/integration/create', { type: 'alert_standard', name: 'rules-source', channel_id: chan });
  const r = await fetch(`${URL}/event/push/alert/standard?integration_key=${src.integration_key}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title_rule: 'Muted during maintenance', event_status: 'Warning', alert_key: 'muted-1', labels: { muted: 'yes' } }) });
  assert.equal(r.status, 200);
  await page.goto(URL + '/#/alerts');
  await page.locator('select[name=muted]').selectOption('1');
  const row = page.locator('tr', { hasText: 'Muted during maintenance' });
  await row.waitFor();
  assert.match(await row.textContent(), /Muted/);
  await page.locator('tbody tr', { hasText: TITLE }).waitFor({ state: 'detached' });
  assert.equal(await page.locator('tbody tr').count(), 1);
});

step('quick silence from an incident', async () => {
  const chan = result.rules_channel_id;
  const inc = await api('/incident/create', { incident_severity: 'Critical', title: 'Checkout errors', channel_id: chan });
  await page.goto(URL + '/#/incidents/' + inc.incident_id);
  await page.getByRole('button', { name: 'Quick silence' }).click();
  await page.locator('.actions .ok', { hasText: 'Quick Silence' }).waitFor();
  let quick = (await api('/channel/silence/rule/list', { channel_id: chan })).items.filter((x) => x.from_incident_id === inc.incident_id);
  assert.equal(quick.length, 1);
  assert.match(quick[0].rule_name, /^Quick Silence - #/);
  assert.equal(quick[0].time_filter.end_time - quick[0].time_filter.start_time, 86400);
  // A second press edits the same rule (here: one hour).
  await page.locator('select[name=silence_for]').selectOption('3600');
  await page.getByRole('button', { name: 'Quick silence' }).click();
  await eventually(async () => {
    const again = (await api('/channel/silence/rule/list', { channel_id: chan })).items.filter((x) => x.from_incident_id === inc.incident_id);
    return again.length === 1 && again[0].rule_id === quick[0].rule_id &&
      again[0].time_filter.end_time - again[0].time_filter.start_time === 3600;
  }, 'the quick silence to be edited');
  quick = (await api('/channel/silence/rule/list', { channel_id: chan })).items;
  for (const x of quick) await api('/channel/silence/rule/delete', { channel_id: chan, rule_id: x.rule_id });
});

step('escalation rules on a channel; an incident shows its assignment and escalation', async () => {
  const ch = (await api('/channel/list', { limit: 100 })).items.find((c) => c.channel_name === 'Checkout');
  await page.goto(URL + '/#/channels/' + ch.channel_id);
  await page.getByText('No escalation rules').waitFor();
  const escForm = page.getByRole('form', { name: 'New escalation rule' });
  await page.getByText('New escalation rule').click();
  await escForm.locator('input[name=rule_name]').fill('Night shift');
  await escForm.locator('input[name=aggr_window]').fill('0');
  await escForm.locator('input[name=layer0]').fill('1');
  await escForm.locator('input[name=escalate_window]').fill('10');
  await escForm.getByRole('button', { name: 'Create rule' }).click();
  const row = page.locator('tr', { hasText: 'Night shift' });
  await row.waitFor();
  assert.match(await row.textContent(), /enabled/);
  assert.match(await row.textContent(), /0: #1/);
  const rules = (await api('/channel/escalate/rule/list', { channel_id: ch.channel_id })).items;
  assert.equal(rules.length, 1);
  assert.deepEqual(rules[0].layers[0].target.person_ids, [1]);
  assert.equal(rules[0].layers[0].escalate_window, 10);
  // A refused rule is explained in words, and nothing is added.
  await page.getByText('New escalation rule').click();
  await escForm.locator('input[name=rule_name]').fill('Nobody');
  await escForm.locator('input[name=layer0]').fill('424242');
  await escForm.getByRole('button', { name: 'Create rule' }).click();
  await page.locator('form[aria-label="New escalation rule"] .error', { hasText: 'person 424242 does not exist' }).waitFor();
  assert.equal((await api('/channel/escalate/rule/list', { channel_id: ch.channel_id })).items.length, 1);
  // An incident of the channel follows the rule: layer 0 is assigned at once.
  const made = await api('/incident/create', { incident_severity: 'Warning', title: 'escalated by the console test', channel_id: ch.channel_id });
  await eventually(async () => (await api('/incident/info', { incident_id: made.incident_id })).assigned_to?.type === 'assign', 'layer 0 assigned');
  await page.goto(URL + '/#/incidents/' + made.incident_id);
  const assigned = page.locator('dt', { hasText: /^Assigned$/ }).locator('xpath=following-sibling::dd[1]');
  await assigned.waitFor();
  assert.match(await assigned.textContent(), /assign by rule Night shift, layer 0/);
  const esc = page.locator('dt', { hasText: /^Escalation$/ }).locator('xpath=following-sibling::dd[1]');
  assert.match(await esc.textContent(), /Night shift: every layer assigned/);
  // Deleting the rule from the channel page.
  await page.goto(URL + '/#/channels/' + ch.channel_id);
  await page.getByRole('button', { name: 'Delete rule Night shift' }).click();
  await page.getByText('No escalation rules').waitFor();
  assert.deepEqual((await api('/channel/escalate/rule/list', { channel_id: ch.channel_id })).items, []);
});

step('invite a member', async () => {
  await page.goto(URL + '/#/members');
  await page.fill('input[name=member_name]', 'Grace Hopper');
  await page.fill('input[name=email]', 'grace@example.com');
  await page.getByRole('button', { name: 'Invite' }).click();
  await page.locator('td', { hasText: 'grace@example.com' }).waitFor();
  const m = await api('/member/list', { limit: 100 });
  assert.ok(m.items.some((x) => x.email === 'grace@example.com'));
});

step('alerts: the list and an alert with its events', async () => {
  await page.goto(URL + '/#/alerts');
  await page.locator('select[name=active]').selectOption('');
  const link = page.getByRole('link', { name: TITLE }).first();
  await link.waitFor();
  await link.click();
  await page.locator('h2', { hasText: 'Events' }).waitFor();
  assert.ok(await page.locator('section', { hasText: 'Events' }).locator('tbody tr').count() >= 1);
});

step('phone width: no sideways scrolling, menu works', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(URL + '/#/incidents');
  await page.locator('select[name=range]').waitFor();
  await page.locator('input[name=progress][value=Closed]').check();
  await page.getByRole('link', { name: TITLE }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, 'page is ' + overflow + 'px wider than the window');
  await shot(page, 'incidents-phone');
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('link', { name: 'History' }).click();
  await page.locator('h1', { hasText: 'Invocation history' }).waitFor();
  await page.setViewportSize({ width: 1280, height: 800 });
});

step('incidents and alerts page through the API\'s p/limit, keeping filters; live refresh keeps the page', async () => {
  // 25 more incidents (and alerts), pushed through the console's alert source.
  const src = (await api('/integration/list', { limit: 100 })).items.find((i) => i.name === 'console-source');
  const push = (n) => fetch(`${URL}/event/push/alert/standard?integration_key=${src.integration_key}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title_rule: `Paging check ${n}`, event_status: 'Warning', alert_key: `paging-${n}` }) });
  for (let n = 1; n <= 25; n++) assert.equal((await push(n)).status, 200);
  const listed = (p, extra = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return api('/incident/list', { start_time: now - 86400, end_time: now + 60, progress: 'Triggered,Processing', limit: 20, p, ...extra });
  };
  // All 25 listed (they share a second or two of start_time, so which of
  // them fall on page 1 is up to their random ids: look at one big page).
  const total = (await eventually(async () => {
    const d = await listed(1, { limit: 100 });
    const titles = new Set(d.items.map((i) => i.title));
    for (let n = 1; n <= 25; n++) if (!titles.has(`Paging check ${n}`)) return false;
    return d;
  }, 'the pushed incidents')).total;
  assert.ok(total > 20 && total <= 40, 'total ' + total);
  await page.goto(URL + '/#/incidents');
  await page.locator('select[name=size]').selectOption('20');
  const pager = page.getByRole('navigation', { name: 'Incident pages' });
  await page.waitForFunction((t) => document.querySelector('.pager-info').textContent === `1–20 of ${t} incidents · page 1 of 2`, total);
  assert.equal(await page.locator('.results tbody tr').count(), 20);
  assert.equal(await pager.getByRole('button', { name: 'Previous' }).isDisabled(), true);
  // Keyboard: Enter on Next shows page 2 (the API's p=2), and focus moves
  // to Previous once Next is disabled on the last page.
  await pager.getByRole('button', { name: 'Next' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((t) => document.querySelector('.pager-info').textContent === `21–${t} of ${t} incidents · page 2 of 2`, total);
  const want = (await listed(2)).items.map((i) => i.title);
  const shown = await page.locator('.results tbody tr td.grow').allTextContents();
  assert.deepEqual(shown, want);
  assert.equal(await pager.getByRole('button', { name: 'Next' }).isDisabled(), true);
  assert.equal(await page.evaluate(() => document.activeElement.textContent), '← Previous');
  assert.match(page.url(), /[?&]page=2(&|$)/);
  assert.match(page.url(), /[?&]size=20(&|$)/);
  assert.match(page.url(), /[?&]progress=Triggered%2CProcessing(&|$)/);
  // Live refresh reloads the page shown: a new incident shifts page 2 by one.
  assert.equal((await push(26)).status, 200);
  await page.waitForFunction((t) => document.querySelector('.pager-info').textContent === `21–${t + 1} of ${t + 1} incidents · page 2 of 2`,
                             total, { timeout: 25000 });
  // The address keeps the page: a reload comes back to page 2.
  await page.reload();
  await page.waitForFunction((t) => document.querySelector('.pager-info')?.textContent === `21–${t + 1} of ${t + 1} incidents · page 2 of 2`, total);
  assert.equal(await page.locator('select[name=size]').inputValue(), '20');
  await page.getByRole('button', { name: 'Previous' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((t) => document.querySelector('.pager-info').textContent === `1–20 of ${t + 1} incidents · page 1 of 2`, total);
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Next →');
  // A filter change goes back to page 1 and keeps the page size.
  await pager.getByRole('button', { name: 'Next' }).click();
  await page.waitForFunction(() => document.querySelector('.pager-info').textContent.includes('page 2 of 2'));
  await page.locator('input[name=severity][value=Warning]').check();
  const warnings = (await listed(1, { incident_severity: 'Warning' })).total;
  await page.waitForFunction((w) => document.querySelector('.pager-info').textContent === `1–20 of ${w} incidents · page 1 of ${Math.ceil(w / 20)}`, warnings);
  assert.match(page.url(), /[?&]page=1(&|$)/);
  assert.match(page.url(), /[?&]severity=Warning(&|$)/);

  // Alerts: the same pager over /alert/list.
  const now = Math.floor(Date.now() / 1000);
  const alerts = await api('/alert/list', { start_time: now - 86400, end_time: now + 60, is_active: true, limit: 20, p: 2 });
  assert.ok(alerts.total > 20, 'alert total ' + alerts.total);
  await page.goto(URL + '/#/alerts');
  await page.locator('select[name=size]').selectOption('20');
  const apager = page.getByRole('navigation', { name: 'Alert pages' });
  await page.waitForFunction((t) => document.querySelector('.pager-info').textContent.startsWith(`1–20 of ${t} alerts`), alerts.total);
  await apager.getByRole('button', { name: 'Next' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('.pager-info').textContent.includes('· page 2 of'));
  assert.deepEqual(await page.locator('tbody tr td.grow').allTextContents(), alerts.items.map((a) => a.title));
  assert.match(page.url(), /[?&]active=1(&|$)/);
  assert.match(page.url(), /[?&]page=2(&|$)/);
});

step('keyboard: the nav is reachable with Tab and followed with Enter', async () => {
  await page.goto(URL + '/#/incidents');
  await page.locator('h1', { hasText: 'Incidents' }).waitFor();
  // Once the page has loaded, the console moves focus to its heading (or
  // main): wait for that, or it lands in the middle of the Tab presses.
  await page.waitForFunction(() => document.activeElement && document.activeElement.matches('#main h1, #main'));
  await page.locator('a.brand').focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '#/incidents');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '#/alerts');
  await page.keyboard.press('Enter');
  await page.locator('h1', { hasText: 'Alerts' }).waitFor();
  assert.equal(await page.locator('.nav a[aria-current=page]').textContent(), 'Alerts');
});

step('log out clears the key', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('input[name=app_key]').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tocsin.app_key')), null);
});

step('a member (not an administrator) logs in with their own key', async () => {
  await page.fill('input[name=app_key]', MEMBER_KEY);
  await page.click('form.login button[type=submit]');
  await page.locator('.nav').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tocsin.app_key')), MEMBER_KEY);
});

step('the member sees the incidents and acknowledges one', async () => {
  await page.goto(URL + '/#/incidents');
  const link = page.getByRole('link', { name: 'Disk almost full on db-2' });
  await link.waitFor();
  const id = (await link.getAttribute('href')).split('/').pop();
  await link.click();
  await page.getByRole('button', { name: 'Acknowledge' }).click();
  await page.locator('.page-head .badge-processing').waitFor();
  const inc = await api('/incident/info', { incident_id: id });
  assert.equal(inc.progress, 'Processing');
  const feed = await api('/incident/feed', { incident_id: id, limit: 100 });
  assert.ok(feed.items.some((f) => f.type === 'i_ack' && f.creator_id === MEMBER_ID), JSON.stringify(feed.items));
  result.member_acked = id;
});

const ACCESS = /^AccessDenied: only an administrator may /;

step('the member sees no keys or secrets, and admin-only actions are refused in words next to them', async () => {
  await page.goto(URL + '/#/integrations');
  const src = page.locator('tr', { hasText: 'console-source' });
  await src.waitFor();
  assert.match(await src.textContent(), /administrators only/);
  const everything = async () => page.evaluate(() => document.body.innerText);
  assert.doesNotMatch(await everything(), /integration_key=|whsec_/);

  const before = await api('/integration/info', { integration_id: result.webhook_id });
  assert.match(before.signing_secret, /^whsec_/);
  await page.goto(URL + '/#/integrations/' + result.webhook_id);
  const secret = page.locator('section', { has: page.locator('h2', { hasText: /^Signing secret$/ }) });
  await secret.locator('.secret-hidden').waitFor();
  assert.equal(await page.locator('code.secret').isVisible(), false);
  assert.doesNotMatch(await everything(), /whsec_/);
  await secret.getByRole('button', { name: 'Rotate secret' }).click();
  const rotateErr = secret.locator('.error');
  await rotateErr.waitFor();
  assert.match(await rotateErr.textContent(), ACCESS);
  assert.match(await rotateErr.textContent(), /rotate the secrets of integrations/);
  assert.doesNotMatch(await everything(), /whsec_/);
  assert.equal((await api('/integration/info', { integration_id: result.webhook_id })).signing_secret, before.signing_secret);

  const test = page.locator('section', { has: page.locator('h2', { hasText: /^Test$/ }) });
  await test.getByRole('button', { name: 'Send test event' }).click();
  const testErr = test.locator('.error');
  await testErr.waitFor();
  assert.match(await testErr.textContent(), /AccessDenied: only an administrator may send a test event/);
  assert.equal(await test.locator('.test-result .badge').count(), 0);

  await page.goto(URL + '/#/integrations/new?type=webhook_incident');
  await page.fill('input[name=name]', 'Member hook');
  await page.fill('input[name=endpoint]', RX + '/ok/member');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  const createErr = page.locator('.save-bar .error');
  await createErr.waitFor();
  assert.match(await createErr.textContent(), /AccessDenied: only an administrator may create integrations/);
  assert.match(page.url(), /#\/integrations\/new/);
  assert.ok(!(await api('/integration/list', { limit: 100 })).items.some((i) => i.name === 'Member hook'));
});

step('the member reads the history; resend is refused in words next to the button', async () => {
  await page.goto(URL + '/#/history?integration=' + result.webhook_id);
  const row = page.locator('tbody tr', { hasText: 'i_ack' }).first();
  await row.waitFor();
  await row.getByRole('button', { name: 'Details' }).click();
  const panel = page.locator('.detail-panel');
  await panel.waitFor();
  await panel.getByRole('button', { name: 'Resend' }).click();
  const err = panel.locator('.error[role=alert]');
  await err.waitFor();
  assert.match(await err.textContent(), /AccessDenied: only an administrator may resend an event/);
  assert.equal(await panel.locator('p.ok').isVisible(), false);
});

step('the member logs out', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('input[name=app_key]').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tocsin.app_key')), null);
  assert.equal(await page.locator('.nav').count(), 0);
});

let failed = 0;
for (const [name, fn] of steps) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n${e.stack || e}`);
    if (ARTIFACTS) await page.screenshot({ path: path.join(ARTIFACTS, 'failure.png'), fullPage: true }).catch(() => {});
    break; // later steps build on earlier ones
  }
}
if (!failed && pageErrors.length) {
  failed++;
  console.log('FAIL the page logged errors:\n' + pageErrors.join('\n'));
}
await browser.close();
console.log('RESULT ' + JSON.stringify(result));
process.exit(failed ? 1 : 0);
