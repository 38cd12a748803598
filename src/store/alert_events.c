/* store/alert_events.c: see store/alert_events.h. */
#include "store/alert_events.h"

int store_alert_events_insert(store_conn *c, const store_alert_event_row *row, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "INSERT INTO alert_events(event_id, alert_id, integration_id, channel_id, alert_key,"
        " event_severity, event_status, event_time, created_at, title, title_rule, description,"
        " labels, images) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        err);
    if (!st)
        return -1;
    store_bind_text(st, 1, row->event_id);
    store_bind_text(st, 2, row->alert_id);
    store_bind_int64(st, 3, row->integration_id);
    store_bind_int64(st, 4, row->channel_id);
    store_bind_text(st, 5, row->alert_key ? row->alert_key : "");
    store_bind_text(st, 6, row->event_severity ? row->event_severity : "");
    store_bind_text(st, 7, row->event_status);
    store_bind_int64(st, 8, row->event_time);
    store_bind_int64(st, 9, row->created_at);
    store_bind_text(st, 10, row->title ? row->title : "");
    store_bind_text(st, 11, row->title_rule ? row->title_rule : "");
    store_bind_text(st, 12, row->description ? row->description : "");
    store_bind_text(st, 13, row->labels ? row->labels : "{}");
    store_bind_text(st, 14, row->images ? row->images : "[]");
    return store_run(st, err);
}
