/* channel.c: see channel.h. */
#include "core/channel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"
#include "util/doc.h"
#include "util/jbuild.h"

int channel_load(store_conn *c, int64_t channel_id, json_t **doc, tc_err *err) {
    *doc = NULL;
    store_stmt *q = store_prepare(c, "SELECT doc FROM channels WHERE channel_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, channel_id);
    int step = store_step(q, err), rc = -1;
    if (step == STORE_DONE)
        tc_err_set(err, TC_INVALID_PARAMETER, "channel_id %lld does not exist",
                   (long long)channel_id);
    else if (step == STORE_ROW)
        rc = doc_parse_n(store_col_text(q, 0), "channel", channel_id, doc, err);
    store_stmt_done(q);
    return rc;
}

int channel_load_live(store_conn *c, int64_t channel_id, const char *action, json_t **doc,
                      tc_err *err) {
    if (channel_load(c, channel_id, doc, err) != 0)
        return -1;
    const char *status = json_string_value(json_object_get(*doc, "status"));
    if (status && strcmp(status, "deleted") == 0) {
        json_decref(*doc);
        *doc = NULL;
        return tc_err_set(err, TC_INVALID_PARAMETER, "channel_id %lld is deleted and %s",
                          (long long)channel_id, action);
    }
    return 0;
}

int channel_name_free(store_conn *c, const char *name, int64_t except_id, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT channel_id FROM channels WHERE channel_name = ?"
                                  " AND status <> 'deleted' AND channel_id <> ?",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, name);
    store_bind_int64(q, 2, except_id);
    int step = store_step(q, err);
    int64_t other = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    if (step < 0)
        return -1;
    if (step == STORE_ROW)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "channel_name '%s' is already used by channel %lld", name,
                          (long long)other);
    return 0;
}

static int64_t get_int(json_t *doc, const char *key) {
    return json_integer_value(json_object_get(doc, key));
}

static const char *get_str(json_t *doc, const char *key) {
    const char *s = json_string_value(json_object_get(doc, key));
    return s ? s : "";
}

/* A new row: the store picks the id, which then goes into the document. */
static int channel_insert(writer_txn *txn, json_t *doc, tc_err *err) {
    int64_t now = txn->now_ms / 1000;
    int failed = 0;
    jb_set(doc, "created_at", json_integer(now), &failed);
    jb_set(doc, "updated_at", json_integer(now), &failed);
    if (failed)
        return tc_err_oom(err, "a new channel");
    store_stmt *st = store_prepare(txn->conn,
                                   "INSERT INTO channels(channel_name,status,created_at,updated_at,"
                                   "deleted_at,doc) VALUES(?,?,?,?,0,'{}') RETURNING channel_id",
                                   err);
    if (!st)
        return -1;
    store_bind_text(st, 1, get_str(doc, "channel_name"));
    store_bind_text(st, 2, get_str(doc, "status"));
    store_bind_int64(st, 3, now);
    store_bind_int64(st, 4, now);
    int step = store_step(st, err);
    int64_t id = step == STORE_ROW ? store_col_int64(st, 0) : 0;
    store_stmt_done(st);
    if (step != STORE_ROW)
        return step < 0 ? -1 : tc_err_set(err, TC_INTERNAL, "channel insert returned no id");
    if (json_object_set_new(doc, "channel_id", json_integer(id)) != 0)
        return tc_err_oom(err, "a new channel");
    return 0;
}

int channel_save(writer_txn *txn, json_t *doc, tc_err *err) {
    /* The writer's cache reads sources, channels and subscriptions again
     * when next needed (core/state.h). */
    if (txn->state)
        state_config_changed(txn->state);
    store_batch_note(txn->conn, 'c', "");
    if (get_int(doc, "channel_id") == 0 && channel_insert(txn, doc, err) != 0)
        return -1;
    char *text = NULL, *rules = NULL;
    json_t *rules_doc = NULL;
    int rc = -1;
    if (json_object_set_new(doc, "updated_at", json_integer(txn->now_ms / 1000)) != 0 ||
        !(text = jb_dumps(doc, JSON_COMPACT)) ||
        !(rules_doc =
              json_pack("{s:O?, s:b}", "group", json_object_get(doc, "group"), "disable_auto_close",
                        json_is_true(json_object_get(doc, "disable_auto_close")))) ||
        !(rules = jb_dumps(rules_doc, JSON_COMPACT))) {
        tc_err_oom(err, "encoding a channel");
        goto out;
    }
    store_stmt *st = store_prepare(txn->conn,
                                   "UPDATE channels SET channel_name=?, status=?, created_at=?,"
                                   " updated_at=?, deleted_at=?, doc=?, rules=? WHERE channel_id=?",
                                   err);
    if (st) {
        store_bind_text(st, 1, get_str(doc, "channel_name"));
        store_bind_text(st, 2, get_str(doc, "status"));
        store_bind_int64(st, 3, get_int(doc, "created_at"));
        store_bind_int64(st, 4, get_int(doc, "updated_at"));
        store_bind_int64(st, 5, get_int(doc, "deleted_at"));
        store_bind_text(st, 6, text);
        store_bind_text(st, 7, rules);
        store_bind_int64(st, 8, get_int(doc, "channel_id"));
        rc = store_run(st, err);
    }
out:
    json_decref(rules_doc);
    free(text);
    free(rules);
    return rc;
}
