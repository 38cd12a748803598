// samples.js: the default push bodies the template preview renders
// against: one per event type, in the exact shape tocsin sends
// (reference/webhooks.md; copied from real pushes), with made-up values.

export const INCIDENT_TYPES = ['i_new', 'i_assign', 'i_a_rspd', 'i_snooze', 'i_wake', 'i_ack',
  'i_unack', 'i_storm', 'i_custom', 'i_rslv', 'i_reopen', 'i_merge', 'i_comm', 'i_r_title',
  'i_r_desc', 'i_r_impact', 'i_r_rc', 'i_r_rsltn', 'i_r_severity', 'i_r_field'];
export const ALERT_TYPES = ['a_new', 'a_update', 'a_merge', 'a_close'];

// Event types a person causes carry `person`.
const BY_PERSON = new Set(['i_assign', 'i_a_rspd', 'i_snooze', 'i_wake', 'i_ack', 'i_unack',
  'i_custom', 'i_rslv', 'i_reopen', 'i_merge', 'i_comm', 'i_r_title', 'i_r_desc', 'i_r_impact',
  'i_r_rc', 'i_r_rsltn', 'i_r_severity', 'i_r_field', 'a_close']);

const PERSON = { person_id: 1, person_name: 'Ada Lovelace', email: 'ada@example.com' };

function incident(now, type) {
  const acked = ['i_ack', 'i_comm', 'i_custom'].includes(type);
  const closed = type === 'i_rslv';
  return {
    incident_id: '6b02ae2d7f1617c6167bc353', title: 'CPU hot on db1', description: 'cpu > 90% for 5m',
    impact: '', root_cause: '', resolution: '', incident_severity: 'Critical',
    incident_status: closed ? 'Ok' : 'Critical', progress: closed ? 'Closed' : acked ? 'Processing' : 'Triggered',
    created_at: now - 300, updated_at: now, start_time: now - 300, last_time: now - 60,
    end_time: closed ? now : 0, ack_time: acked ? now - 30 : 0, close_time: closed ? now : 0,
    snoozed_before: type === 'i_snooze' ? now + 3600 : 0, fields: {},
    responders: [{ person_id: 1, person_name: 'Ada Lovelace', email: 'ada@example.com',
      assigned_at: now - 290, acknowledged_at: acked ? now - 30 : 0 }],
    alert_cnt: 1, channel_id: 1, channel_name: 'Payments',
    detail_url: location.origin + '/#/incidents/6b02ae2d7f1617c6167bc353', group_method: 'n',
    num: '7BC353', creator_id: 0, data_source_id: 1, dedup_key: '', equals_md5: '',
    account_id: 0, account_name: 'tocsin',
    labels: { host: 'db1', service: 'payments', severity: 'critical' },
  };
}

function alert(now, type) {
  const closed = type === 'a_close';
  return {
    alert_id: '6b02aeb5ef6c4824251ca61f', data_source_id: 1, data_source_name: 'Prometheus',
    data_source_type: 'standard', channel_id: 1, channel_name: 'Payments', title: 'Disk full on db2',
    title_rule: 'Disk full on $host', description: '/var at 97%', alert_key: 'disk-db2',
    alert_severity: 'Warning', alert_status: 'Warning', progress: closed ? 'Closed' : 'Triggered',
    created_at: now - 120, updated_at: now, start_time: now - 120, last_time: now, end_time: 0,
    close_time: closed ? now : 0, labels: { host: 'db2', mount: '/var' }, images: [], event_cnt: 2,
    data_source_ref_id: '', dedup_key: 'disk-db2',
    incident: { incident_id: '6b02aeb56a020d3d5af066f6', title: 'Disk full on db2' },
  };
}

// The default body of one event type, as JSON text.
export function sampleBody(eventType) {
  const now = Math.floor(Date.now() / 1000);
  const body = { event_time: now * 1000, event_type: eventType, event_id: '6b02aeb53425c024fdc592cb' };
  if (eventType.startsWith('a_')) {
    body.alert = alert(now, eventType);
  } else {
    body.incident = incident(now, eventType);
    if (eventType === 'i_custom') body.incident.alerts = [alert(now, 'a_merge')];
  }
  if (BY_PERSON.has(eventType)) body.person = PERSON;
  return JSON.stringify(body);
}
