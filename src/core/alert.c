/* alert.c: see alert.h. */
#include "core/alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/doc.h"
#include "util/jbuild.h"

int alert_load(store_conn *c, const char *alert_id, json_t **doc, tc_err *err) {
    *doc = NULL;
    store_stmt *q = store_prepare(c, "SELECT doc FROM alerts WHERE alert_id = ?", err);
    if (!q)
        return -1;
    store_bind_text(q, 1, alert_id);
    int step = store_step(q, err), rc = -1;
    if (step == STORE_DONE)
        tc_err_set(err, TC_INVALID_PARAMETER, "alert_id %s does not exist", alert_id);
    else if (step == STORE_ROW)
        rc = doc_parse(store_col_text(q, 0), "alert", alert_id, doc, err);
    store_stmt_done(q);
    return rc;
}

int alert_find_open(store_conn *c, int64_t integration_id, const char *alert_key, json_t **doc,
                    char *event_hash_out, tc_err *err) {
    *doc = NULL;
    store_stmt *q =
        store_prepare(c,
                      "SELECT doc, event_hash, alert_id FROM alerts WHERE integration_id = ?"
                      " AND alert_key = ? AND progress <> 'Closed'",
                      err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, integration_id);
    store_bind_text(q, 2, alert_key);
    int step = store_step(q, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW) {
        rc = doc_parse(store_col_text(q, 0), "alert", store_col_text(q, 2), doc, err);
        if (event_hash_out)
            snprintf(event_hash_out, 65, "%s", store_col_text(q, 1));
    }
    store_stmt_done(q);
    return rc;
}

static int64_t get_int(json_t *obj, const char *key) {
    return json_integer_value(json_object_get(obj, key));
}

static const char *get_str(json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

int alert_save(writer_txn *txn, json_t *doc, const char *event_hash, tc_err *err) {
    return alert_store(txn, doc, event_hash, NULL, err);
}

int alert_store(writer_txn *txn, json_t *doc, const char *event_hash, char **text_out,
                tc_err *err) {
    char *text = NULL;
    if (json_object_set_new(doc, "updated_at", json_integer(txn->now_ms / 1000)) != 0 ||
        !(text = jb_dumps(doc, JSON_COMPACT)))
        return tc_err_oom(err, "encoding an alert");
    int rc = -1;
    store_stmt *st = store_prepare(
        txn->conn,
        "INSERT INTO alerts(alert_id,integration_id,channel_id,alert_key,incident_id,progress,"
        "alert_severity,alert_status,start_time,last_time,end_time,event_hash,created_at,"
        "updated_at,doc) VALUES(?,?,?,?,?,?,?,?,?,?,?,COALESCE(?,''),?,?,?)"
        " ON CONFLICT(alert_id) DO UPDATE SET channel_id=excluded.channel_id,"
        " incident_id=excluded.incident_id, progress=excluded.progress,"
        " alert_severity=excluded.alert_severity, alert_status=excluded.alert_status,"
        " last_time=excluded.last_time, end_time=excluded.end_time,"
        " event_hash=COALESCE(?,alerts.event_hash), updated_at=excluded.updated_at,"
        " doc=excluded.doc",
        err);
    if (st) {
        json_t *inc = json_object_get(doc, "incident");
        store_bind_text(st, 1, get_str(doc, "alert_id"));
        store_bind_int64(st, 2, get_int(doc, "data_source_id"));
        store_bind_int64(st, 3, get_int(doc, "channel_id"));
        store_bind_text(st, 4, get_str(doc, "alert_key"));
        store_bind_text(st, 5, inc ? get_str(inc, "incident_id") : "");
        store_bind_text(st, 6, get_str(doc, "progress"));
        store_bind_text(st, 7, get_str(doc, "alert_severity"));
        store_bind_text(st, 8, get_str(doc, "alert_status"));
        store_bind_int64(st, 9, get_int(doc, "start_time"));
        store_bind_int64(st, 10, get_int(doc, "last_time"));
        store_bind_int64(st, 11, get_int(doc, "end_time"));
        store_bind_text(st, 12, event_hash);
        store_bind_int64(st, 13, get_int(doc, "created_at"));
        store_bind_int64(st, 14, get_int(doc, "updated_at"));
        store_bind_text(st, 15, text);
        store_bind_text(st, 16, event_hash);
        rc = store_run(st, err);
    }
    if (rc == 0 && text_out)
        *text_out = text;
    else
        free(text);
    return rc;
}

int alert_feed_add(writer_txn *txn, const char *alert_id, const char *type, const tc_person *person,
                   json_t *detail, tc_err *err) {
    /* NULL is a detail that could not be built, never "no detail". */
    char *text = detail ? jb_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    if (!text)
        return tc_err_oom(err, "encoding a feed entry");
    int rc = -1;
    store_stmt *st = store_prepare(
        txn->conn,
        "INSERT INTO alert_feed(alert_id,type,creator_id,created_at,detail) VALUES(?,?,?,?,?)",
        err);
    if (st) {
        store_bind_text(st, 1, alert_id);
        store_bind_text(st, 2, type);
        store_bind_int64(st, 3, person ? person->person_id : 0);
        store_bind_int64(st, 4, txn->now_ms);
        store_bind_text(st, 5, text);
        rc = store_run(st, err);
    }
    free(text);
    return rc;
}

int alert_emit(writer_txn *txn, json_t *doc, const char *type, const tc_person *person,
               tc_err *err) {
    return events_append(txn, type, "alert", get_str(doc, "alert_id"), get_int(doc, "channel_id"),
                         person, doc, NULL, err);
}
