/* events.c: see events.h. */
#include "core/events.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/outbox.h"
#include "util/ids.h"
#include "util/jbuild.h"

json_t *person_to_json(const tc_person *p) {
    if (!p || p->person_id == 0)
        return NULL;
    return json_pack("{s:I, s:s, s:s}", "person_id", (json_int_t)p->person_id, "person_name",
                     p->person_name, "email", p->email);
}

void person_json_set(json_t *obj, const char *key, const tc_person *p, int *failed) {
    if (p && p->person_id != 0)
        jb_set(obj, key, person_to_json(p), failed);
}

int events_append(writer_txn *txn, const char *event_type, const char *object_kind,
                  const char *object_id, int64_t channel_id, const tc_person *person,
                  json_t *object, char *event_id_out, tc_err *err) {
    char *text = jb_dumps(object, JSON_COMPACT);
    if (!text)
        return tc_err_oom(err, "encoding an event");
    int rc = events_append_encoded(txn, event_type, object_kind, object_id, channel_id, person,
                                   text, event_id_out, err);
    free(text);
    return rc;
}

/* {"event_time":T,"event_type":"X","event_id":"I","<kind>":OBJECT[,"person":P]}: the
 * default webhook body. event_type and object_kind are tocsin's own constant
 * names (never request input), so they need no escaping. */
static char *compose_body(writer_txn *txn, const char *event_type, const char *object_kind,
                          const char *event_id, const tc_person *person, const char *object_json) {
    /* Somebody acted: the body names them, or there is no body. */
    int somebody = person && person->person_id != 0;
    json_t *pj = somebody ? person_to_json(person) : NULL;
    char *person_text = pj ? jb_dumps(pj, JSON_COMPACT) : NULL;
    json_decref(pj);
    char *body = NULL;
    if (somebody && !person_text)
        return NULL;
    if (asprintf(&body,
                 "{\"event_time\":%lld,\"event_type\":\"%s\",\"event_id\":\"%s\",\"%s\":%s%s%s}",
                 (long long)txn->now_ms, event_type, event_id, object_kind, object_json,
                 person_text ? ",\"person\":" : "", person_text ? person_text : "") < 0)
        body = NULL;
    free(person_text);
    return body;
}

int events_append_encoded(writer_txn *txn, const char *event_type, const char *object_kind,
                          const char *object_id, int64_t channel_id, const tc_person *person,
                          const char *object_json, char *event_id_out, tc_err *err) {
    char event_id[IDS_OBJECT_LEN + 1];
    if (ids_object_new(event_id) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make an event id");
    char *text = compose_body(txn, event_type, object_kind, event_id, person, object_json);
    if (!text)
        return tc_err_oom(err, "encoding an event");
    int rc = -1;
    int64_t seq = 0;
    store_stmt *st = store_prepare(
        txn->conn,
        "INSERT INTO events(event_id,event_time,event_type,object_kind,object_id,channel_id,"
        "person_id,body) VALUES(?,?,?,?,?,?,?,?) RETURNING seq",
        err);
    if (st) {
        store_bind_text(st, 1, event_id);
        store_bind_int64(st, 2, txn->now_ms);
        store_bind_text(st, 3, event_type);
        store_bind_text(st, 4, object_kind);
        store_bind_text(st, 5, object_id);
        store_bind_int64(st, 6, channel_id);
        store_bind_int64(st, 7, person ? person->person_id : 0);
        store_bind_text(st, 8, text);
        int step = store_step(st, err);
        if (step == STORE_ROW)
            seq = store_col_int64(st, 0);
        store_stmt_done(st);
        if (step == STORE_ROW)
            rc = outbox_fan_out(txn, seq, event_type, object_kind, object_id, channel_id, err);
        else if (step == STORE_DONE)
            tc_err_set(err, TC_INTERNAL, "event insert returned no seq");
    }
    free(text);
    if (rc == 0 && event_id_out) {
        for (int i = 0; i <= IDS_OBJECT_LEN; i++)
            event_id_out[i] = event_id[i];
    }
    return rc;
}
