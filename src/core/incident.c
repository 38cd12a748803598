/* incident.c: see incident.h. */
#include "core/incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/doc.h"
#include "util/ids.h"
#include "util/jbuild.h"

void incident_init(incident *inc) {
    inc->doc = NULL;
    inc->meta = NULL;
}

void incident_clear(incident *inc) {
    json_decref(inc->doc);
    json_decref(inc->meta);
    incident_init(inc);
}

int incident_severity_rank(const char *severity) {
    if (!severity)
        return 0;
    if (strcmp(severity, "Critical") == 0)
        return 3;
    if (strcmp(severity, "Warning") == 0)
        return 2;
    if (strcmp(severity, "Info") == 0)
        return 1;
    return 0;
}

int incident_load(store_conn *c, const char *incident_id, incident *out, tc_err *err) {
    incident_init(out);
    store_stmt *q = store_prepare(
        c, "SELECT doc, meta FROM incidents WHERE incident_id = ? AND deleted_at = 0", err);
    if (!q)
        return -1;
    store_bind_text(q, 1, incident_id);
    int step = store_step(q, err), rc = -1;
    if (step == STORE_DONE)
        tc_err_set(err, TC_INVALID_PARAMETER, "incident_id %s does not exist", incident_id);
    else if (step == STORE_ROW &&
             doc_parse(store_col_text(q, 0), "incident", incident_id, &out->doc, err) == 0 &&
             doc_parse(store_col_text(q, 1), "incident_meta", incident_id, &out->meta, err) == 0)
        rc = 0;
    store_stmt_done(q);
    if (rc != 0)
        incident_clear(out);
    return rc;
}

static int64_t get_int(json_t *obj, const char *key) {
    return json_integer_value(json_object_get(obj, key));
}

static const char *get_str(json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

int incident_save(writer_txn *txn, incident *inc, tc_err *err) {
    return incident_store(txn, inc, NULL, err);
}

int incident_store(writer_txn *txn, incident *inc, char **doc_text_out, tc_err *err) {
    char *doc = NULL, *meta = NULL;
    int rc = -1;
    if (json_object_set_new(inc->doc, "updated_at", json_integer(txn->now_ms / 1000)) != 0 ||
        !(doc = jb_dumps(inc->doc, JSON_COMPACT)) || !(meta = jb_dumps(inc->meta, JSON_COMPACT))) {
        tc_err_oom(err, "encoding an incident");
        goto out;
    }
    store_stmt *st = store_prepare(
        txn->conn,
        "INSERT INTO incidents(incident_id,channel_id,progress,incident_severity,incident_status,"
        "start_time,last_alert_time,close_time,snoozed_before,creator_id,closer_id,created_at,"
        "updated_at,doc,meta) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(incident_id) DO UPDATE SET channel_id=excluded.channel_id,"
        " progress=excluded.progress, incident_severity=excluded.incident_severity,"
        " incident_status=excluded.incident_status, start_time=excluded.start_time,"
        " last_alert_time=excluded.last_alert_time, close_time=excluded.close_time,"
        " snoozed_before=excluded.snoozed_before, creator_id=excluded.creator_id,"
        " closer_id=excluded.closer_id, updated_at=excluded.updated_at, doc=excluded.doc,"
        " meta=excluded.meta",
        err);
    if (!st)
        goto out;
    store_bind_text(st, 1, get_str(inc->doc, "incident_id"));
    store_bind_int64(st, 2, get_int(inc->doc, "channel_id"));
    store_bind_text(st, 3, get_str(inc->doc, "progress"));
    store_bind_text(st, 4, get_str(inc->doc, "incident_severity"));
    store_bind_text(st, 5, get_str(inc->doc, "incident_status"));
    store_bind_int64(st, 6, get_int(inc->doc, "start_time"));
    store_bind_int64(st, 7, get_int(inc->meta, "last_alert_time"));
    store_bind_int64(st, 8, get_int(inc->doc, "close_time"));
    store_bind_int64(st, 9, get_int(inc->doc, "snoozed_before"));
    store_bind_int64(st, 10, get_int(inc->meta, "creator_id"));
    store_bind_int64(st, 11, get_int(inc->meta, "closer_id"));
    store_bind_int64(st, 12, get_int(inc->doc, "created_at"));
    store_bind_int64(st, 13, get_int(inc->doc, "updated_at"));
    store_bind_text(st, 14, doc);
    store_bind_text(st, 15, meta);
    rc = store_run(st, err);
out:
    if (rc == 0 && doc_text_out)
        *doc_text_out = doc;
    else
        free(doc);
    free(meta);
    return rc;
}

int incident_feed_add(writer_txn *txn, const char *incident_id, const char *type,
                      const tc_person *person, json_t *detail, tc_err *err) {
    /* NULL is a detail that could not be built, never "no detail". */
    char *text = detail ? jb_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    if (!text)
        return tc_err_oom(err, "encoding a feed entry");
    int rc = -1;
    store_stmt *st = store_prepare(txn->conn,
                                   "INSERT INTO incident_feed(incident_id,type,creator_id,"
                                   "created_at,detail) VALUES(?,?,?,?,?)",
                                   err);
    if (st) {
        store_bind_text(st, 1, incident_id);
        store_bind_text(st, 2, type);
        store_bind_int64(st, 3, person ? person->person_id : 0);
        store_bind_int64(st, 4, txn->now_ms);
        store_bind_text(st, 5, text);
        rc = store_run(st, err);
    }
    free(text);
    return rc;
}

int incident_commit(writer_txn *txn, incident *inc, const char *type, const tc_person *person,
                    json_t *feed_detail, tc_err *err) {
    const char *id = get_str(inc->doc, "incident_id");
    char *text = NULL; /* the saved doc, encoded once for the save and the event */
    if (incident_store(txn, inc, &text, err) != 0) {
        json_decref(feed_detail);
        return -1;
    }
    int rc = incident_feed_add(txn, id, type, person, feed_detail, err);
    if (rc == 0)
        rc = events_append_encoded(txn, type, "incident", id, get_int(inc->doc, "channel_id"),
                                   person, text, NULL, err);
    free(text);
    return rc;
}

int incident_new(writer_txn *txn, const char *title, const char *severity, int64_t channel_id,
                 const char *channel_name, incident *out, tc_err *err) {
    char id[IDS_OBJECT_LEN + 1];
    if (ids_object_new(id) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make an incident id");
    int64_t now = txn->now_ms / 1000;
    char url[1400];
    snprintf(url, sizeof(url), "%s/#/incidents/%s", txn->cfg->base_url, id);
    incident_init(out);
    out->doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
        " s:{}, s:[], s:I, s:I, s:s, s:s, s:s}",
        "incident_id", id, "title", title, "description", "", "impact", "", "root_cause", "",
        "resolution", "", "incident_severity", severity, "incident_status", severity, "progress",
        "Triggered", "created_at", (json_int_t)now, "updated_at", (json_int_t)now, "start_time",
        (json_int_t)now, "last_time", (json_int_t)0, "end_time", (json_int_t)0, "ack_time",
        (json_int_t)0, "close_time", (json_int_t)0, "snoozed_before", (json_int_t)0, "fields",
        "responders", "alert_cnt", (json_int_t)0, "channel_id", (json_int_t)channel_id,
        "channel_name", channel_name ? channel_name : "", "detail_url", url, "group_method", "n");
    out->meta =
        json_pack("{s:{}, s:[], s:[], s:[], s:I, s:I, s:I, s:I, s:I}", "pins", "storm_fired",
                  "integration_ids", "integration_types", "creator_id", (json_int_t)0, "closer_id",
                  (json_int_t)0, "last_alert_time", (json_int_t)0, "active_alert_cnt",
                  (json_int_t)0, "alert_event_cnt", (json_int_t)0);
    if (!out->doc || !out->meta) {
        incident_clear(out);
        return tc_err_oom(err, "building an incident");
    }
    return 0;
}
