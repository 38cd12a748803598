/* change.c: see change.h. */
#include "core/change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "util/ids.h"

const char *const change_statuses[] = {"Planned", "Ready", "Processing", "Canceled", "Done", NULL};

void change_event_init(change_event *ev) {
    memset(ev, 0, sizeof(*ev));
}

void change_event_clear(change_event *ev) {
    free(ev->change_key);
    free(ev->title);
    free(ev->description);
    free(ev->link);
    json_decref(ev->labels);
    free(ev->labels_text);
    change_event_init(ev);
}

static int is_end_status(const char *status) {
    return strcmp(status, "Done") == 0 || strcmp(status, "Canceled") == 0;
}

void change_merge(const store_change_row *old, const change_event *ev, int64_t event_time,
                  int64_t now_s, store_change_row *out) {
    int processing = strcmp(ev->change_status, "Processing") == 0;
    memset(out, 0, sizeof(*out));
    if (old) {
        out->id = old->id;
        memcpy(out->change_id, old->change_id, sizeof(out->change_id));
        out->integration_id = old->integration_id;
        out->channel_id = old->channel_id;
        out->created_at = old->created_at;
        out->event_cnt = old->event_cnt + 1;
        out->start_time = old->start_time;
        out->started = old->started;
        out->last_time = event_time > old->last_time ? event_time : old->last_time;
        out->end_time = old->end_time;
    } else {
        out->created_at = now_s;
        out->event_cnt = 1;
        out->start_time = event_time;
        out->last_time = event_time;
    }
    if (processing && !out->started) {
        out->start_time = event_time;
        out->started = 1;
    }
    if (is_end_status(ev->change_status) && out->end_time == 0)
        out->end_time = event_time;
    out->updated_at = now_s;
    out->change_key = ev->change_key;
    out->title = ev->title;
    out->description = ev->description;
    out->link = ev->link;
    out->labels = ev->labels_text;
    snprintf(out->change_status, sizeof(out->change_status), "%s", ev->change_status);
}

/* The event's row, its strings borrowed from ev. */
static int event_row(const change_event *ev, const store_change_row *ch, int64_t event_time,
                     int64_t now_s, store_change_event *row, tc_err *err) {
    memset(row, 0, sizeof(*row));
    if (ids_object_new(row->event_id) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make an event id");
    row->change_id = ch->change_id;
    row->integration_id = ch->integration_id;
    row->change_key = ev->change_key;
    row->change_status = ev->change_status;
    row->event_time = event_time;
    row->created_at = now_s;
    row->title = ev->title;
    row->description = ev->description;
    row->link = ev->link;
    row->labels = ev->labels_text;
    return 0;
}

int change_ingest(writer_txn *txn, const char *integration_key, const char *key_hash,
                  const change_event *ev, char *change_id, tc_err *err) {
    int64_t integration_id = 0, channel_id = 0;
    int64_t now_s = txn->now_ms / 1000;
    int64_t event_time = ev->event_time ? ev->event_time : now_s;
    store_change_row old, merged;
    store_change_event row;
    int found = 0, rc = -1;
    if (engine_source_ids(txn, integration_key, key_hash, CHANGE_TYPE, &integration_id, &channel_id,
                          err) != 0 ||
        store_changes_find(txn->conn, integration_id, ev->change_key, &old, &found, err) != 0)
        return -1;
    change_merge(found ? &old : NULL, ev, event_time, now_s, &merged);
    if (!found) {
        if (ids_object_new(merged.change_id) != 0) {
            tc_err_set(err, TC_INTERNAL, "cannot make a change id");
            goto out;
        }
        merged.integration_id = integration_id;
        merged.channel_id = channel_id;
    }
    if (event_row(ev, &merged, event_time, now_s, &row, err) != 0 ||
        store_changes_save(txn->conn, &merged, err) != 0 ||
        store_change_events_insert(txn->conn, &row, err) != 0)
        goto out;
    memcpy(change_id, merged.change_id, IDS_OBJECT_LEN + 1);
    rc = 0;
out:
    if (found)
        store_change_row_clear(&old);
    return rc;
}
