/* store/channels.c: see store/channels.h. */
#include "store/channels.h"

/* Runs q (bound by the caller) for at most one row, handing it to fn. */
static int one_doc(store_stmt *q, int64_t channel_id, store_channel_doc_fn fn, void *arg,
                   tc_err *err) {
    int step = store_step(q, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW) {
        store_channel_doc ch = {.channel_id = channel_id, .doc = store_col_text(q, 0)};
        rc = fn(arg, &ch, err) != 0 ? -1 : 1;
    }
    store_stmt_done(q);
    return rc;
}

int store_channels_doc(store_conn *c, int64_t channel_id, store_channel_doc_fn fn, void *arg,
                       tc_err *err) {
    store_stmt *q = store_prepare(c, "SELECT doc FROM channels WHERE channel_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, channel_id);
    return one_doc(q, channel_id, fn, arg, err);
}

int store_channels_each_live(store_conn *c, store_channel_doc_fn fn, void *arg, tc_err *err) {
    store_stmt *q = store_prepare(
        c, "SELECT doc, channel_id FROM channels WHERE status <> 'deleted' ORDER BY channel_id",
        err);
    if (!q)
        return -1;
    int step, rc = 0;
    while ((step = store_step(q, err)) == STORE_ROW) {
        store_channel_doc ch = {.channel_id = store_col_int64(q, 1), .doc = store_col_text(q, 0)};
        if ((rc = fn(arg, &ch, err)) != 0)
            break;
    }
    store_stmt_done(q);
    return rc != 0 || step < 0 ? -1 : 0;
}

int store_channels_brief(store_conn *c, int64_t channel_id,
                         int (*fn)(void *arg, const store_channel_brief *ch, tc_err *err),
                         void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT channel_name, status FROM channels"
                                  " WHERE channel_id = ? AND status <> 'deleted'",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, channel_id);
    int step = store_step(q, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW) {
        store_channel_brief ch = {
            .channel_id = channel_id, .name = store_col_text(q, 0), .status = store_col_text(q, 1)};
        rc = fn(arg, &ch, err) != 0 ? -1 : 1;
    }
    store_stmt_done(q);
    return rc;
}

int store_channels_name_owner(store_conn *c, const char *name, int64_t except_id,
                              int64_t *channel_id, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT channel_id FROM channels WHERE channel_name = ?"
                                  " AND status <> 'deleted' AND channel_id <> ?",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, name);
    store_bind_int64(q, 2, except_id);
    int step = store_step(q, err);
    *channel_id = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    return step < 0 ? -1 : step == STORE_ROW;
}

int store_channels_insert(store_conn *c, const char *name, const char *status, int64_t now_s,
                          int64_t *channel_id, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "INSERT INTO channels(channel_name,status,created_at,updated_at,"
                                   "deleted_at,doc) VALUES(?,?,?,?,0,'{}') RETURNING channel_id",
                                   err);
    if (!st)
        return -1;
    store_bind_text(st, 1, name);
    store_bind_text(st, 2, status);
    store_bind_int64(st, 3, now_s);
    store_bind_int64(st, 4, now_s);
    int step = store_step(st, err);
    *channel_id = step == STORE_ROW ? store_col_int64(st, 0) : 0;
    store_stmt_done(st);
    if (step != STORE_ROW)
        return step < 0 ? -1 : tc_err_set(err, TC_INTERNAL, "channel insert returned no id");
    return 0;
}

int store_channels_update(store_conn *c, const store_channel_write *w, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "UPDATE channels SET channel_name=?, status=?, created_at=?,"
                                   " updated_at=?, deleted_at=?, doc=?, rules=? WHERE channel_id=?",
                                   err);
    if (!st)
        return -1;
    store_bind_text(st, 1, w->name);
    store_bind_text(st, 2, w->status);
    store_bind_int64(st, 3, w->created_at);
    store_bind_int64(st, 4, w->updated_at);
    store_bind_int64(st, 5, w->deleted_at);
    store_bind_text(st, 6, w->doc);
    store_bind_text(st, 7, w->rules);
    store_bind_int64(st, 8, w->channel_id);
    return store_run(st, err);
}
