/* engine.c: from event to alert to incident (see engine.h).
 *
 * One event, inside one writer command:
 *
 *   source   the integration named by the key (enabled, of the expected
 *            type) and its channel, whose `group` rules are read fresh on
 *            every command (nothing about the store is cached in memory);
 *   dedupe   the open alert of (integration, alert_key), read with its
 *            incident's progress in one query. An event whose content hash
 *            equals the alert's event_hash is dropped. Otherwise it merges
 *            (a_update when the alert changed); Ok recovers and closes it.
 *   new      no open alert: a new alert (a_new) that joins an incident:
 *            method n its own (i_new), p the channel's open incident found
 *            by bucket key in incident_groups inside the time window, else a
 *            new one (i_new + bucket rows); a_merge either way; i_storm when
 *            the alert count reaches a threshold not yet warned about.
 *   refresh  after an alert changes, its incident's status and counters are
 *            recomputed from its alerts; when none is open any more the
 *            incident recovers and closes by itself (i_rslv, no person).
 *
 * A manually closed incident takes no new events into its alerts. The rule,
 * the simplest one consistent with reference/event-api.md: when an event
 * arrives for an open alert whose incident is Closed (or removed), that
 * alert is closed first (a_close, no person: the incident's closing ends
 * it), and the event then goes on as if the alert did not exist: a new alert
 * in a new or grouped incident, or, for an Ok event, nothing more.
 *
 * An Ok event for a key with no open alert has nothing to recover and is
 * dropped (answered, not stored). Times: an event's time is its own when
 * given and not in the future, else the batch's; last_time is always the
 * time of arrival. */
#include "core/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/alert.h"
#include "core/event_input.h"
#include "core/grouping.h"
#include "core/title_rule.h"
#include "util/doc.h"
#include "util/ids.h"
#include "util/jbuild.h"

void engine_event_init(engine_event *ev) {
    memset(ev, 0, sizeof(*ev));
}

void engine_event_clear(engine_event *ev) {
    free(ev->title_rule);
    free(ev->event_status);
    free(ev->alert_key);
    free(ev->description);
    json_decref(ev->labels);
    json_decref(ev->images);
    engine_event_init(ev);
}

/* ---- small JSON helpers ------------------------------------------------ */

static const char *jstr(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int64_t jint(json_t *o, const char *k) {
    return json_integer_value(json_object_get(o, k));
}

/* Each set_* returns 1 when the value changed; a failed set is flagged in
 * *failed (util/jbuild.h), and the caller checks once before saving. */
static int set_str(json_t *o, const char *k, const char *v, int *failed) {
    if (strcmp(jstr(o, k), v) == 0 && json_is_string(json_object_get(o, k)))
        return 0;
    jb_set(o, k, json_string(v), failed);
    return 1;
}

static int set_int(json_t *o, const char *k, int64_t v, int *failed) {
    if (json_is_integer(json_object_get(o, k)) && jint(o, k) == v)
        return 0;
    jb_set(o, k, json_integer(v), failed);
    return 1;
}

static int set_json(json_t *o, const char *k, json_t *v, int *failed) {
    if (json_equal(json_object_get(o, k), v))
        return 0;
    jb_set(o, k, json_deep_copy(v), failed);
    return 1;
}

static const char *rank_name(int rank) {
    static const char *const names[] = {"Ok", "Info", "Warning", "Critical"};
    return names[rank < 0 ? 0 : rank > 3 ? 3 : rank];
}

/* data_source_type / integration_type of an alert: "standard", "prometheus". */
static const char *short_type(const char *type) {
    return strncmp(type, "alert_", 6) == 0 ? type + 6 : type;
}

/* Appends the a_* event of an alert whose saved doc is `text` (the encoding
 * alert_store handed back: the doc is encoded once per change). */
static int alert_announce(writer_txn *txn, json_t *doc, const char *text, const char *type,
                          const tc_person *who, tc_err *err) {
    return events_append_encoded(txn, type, "alert", jstr(doc, "alert_id"), jint(doc, "channel_id"),
                                 who, text, NULL, err);
}

/* ---- the alert source ---------------------------------------------------- */

typedef struct {
    int64_t integration_id;
    char type[32];
    char name[520];
    int64_t channel_id;
    char channel_name[520];
    group_rules rules;
} engine_source;

/* A channel's `rules` column into rules: a column that cannot be read, or
 * rules that cannot be built, fail the command (never "no grouping"). */
static int rules_read(const char *text, int64_t channel_id, group_rules *rules, tc_err *err) {
    json_t *doc = NULL;
    if (doc_parse_n(text, "channel_rules", channel_id, &doc, err) != 0)
        return -1;
    int rc = group_rules_from_channel(doc, rules);
    json_decref(doc);
    return rc == 0 ? 0 : tc_err_oom(err, "a channel's grouping rules");
}

/* Constant-time equality of two keys of public length. */
static int keys_equal(const char *stored, const char *given) {
    size_t n = strlen(given);
    return stored && strlen(stored) == n && CRYPTO_memcmp(stored, given, n) == 0;
}

static int source_find(store_conn *c, const char *key, const char *expected_type,
                       engine_source *src, tc_err *err) {
    group_rules_init(&src->rules);
    if (!key || !*key || strlen(key) > 256)
        return tc_err_set(err, TC_UNAUTHORIZED, "integration_key is not valid");
    store_stmt *q = store_prepare(
        c,
        "SELECT i.integration_id, i.type, i.name, i.channel_id, ch.channel_name, ch.status,"
        " ch.rules, i.integration_key FROM integrations i"
        " LEFT JOIN channels ch ON ch.channel_id = i.channel_id"
        " WHERE i.integration_key_hash = ? AND i.status = 'enabled'",
        err);
    if (!q)
        return -1;
    /* Found by the key's hash, then compared in constant time: neither the
     * index search nor the comparison tells a guesser how much of a key
     * was right (migration 003). */
    char key_hash[65];
    ids_sha256_hex(key, strlen(key), key_hash);
    store_bind_text(q, 1, key_hash);
    int rc = -1, step = store_step(q, err);
    if (step == STORE_ROW && !keys_equal(store_col_text(q, 7), key))
        step = STORE_DONE;
    if (step == STORE_DONE) {
        tc_err_set(err, TC_UNAUTHORIZED,
                   "integration_key is not valid (unknown, disabled or deleted integration)");
    } else if (step == STORE_ROW) {
        const char *type = store_col_text(q, 1), *ch_status = store_col_text(q, 5);
        if (strcmp(type, expected_type) != 0) {
            tc_err_set(err, TC_UNAUTHORIZED,
                       "integration_key is not the key of an %s integration; use the push URL "
                       "of its own type",
                       expected_type);
        } else if (store_col_is_null(q, 4) || strcmp(ch_status, "deleted") == 0) {
            tc_err_set(err, TC_UNAUTHORIZED, "integration_key is not valid (its channel is gone)");
        } else if (strcmp(ch_status, "enabled") != 0) {
            tc_err_set(err, TC_ACCESS_DENIED, "channel %s is disabled: it takes no alerts",
                       store_col_text(q, 4));
        } else {
            src->integration_id = store_col_int64(q, 0);
            snprintf(src->type, sizeof(src->type), "%s", type);
            snprintf(src->name, sizeof(src->name), "%s", store_col_text(q, 2));
            src->channel_id = store_col_int64(q, 3);
            snprintf(src->channel_name, sizeof(src->channel_name), "%s", store_col_text(q, 4));
            rc = rules_read(store_col_text(q, 6), src->channel_id, &src->rules, err);
        }
    }
    store_stmt_done(q);
    return rc;
}

int engine_source_check(store_conn *c, const char *integration_key, const char *expected_type,
                        tc_err *err) {
    engine_source src;
    int rc = source_find(c, integration_key, expected_type, &src, err);
    group_rules_clear(&src.rules);
    return rc;
}

/* The rules of a channel by id (an incident's channel); n when none. */
static int channel_rules(store_conn *c, int64_t channel_id, group_rules *rules, tc_err *err) {
    group_rules_init(rules);
    if (channel_id == 0)
        return 0;
    store_stmt *q = store_prepare(c, "SELECT rules FROM channels WHERE channel_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, channel_id);
    int step = store_step(q, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW)
        rc = rules_read(store_col_text(q, 0), channel_id, rules, err);
    store_stmt_done(q);
    return rc;
}

/* ---- incidents ------------------------------------------------------------ */

/* Appends v (consumed) to the JSON list meta[key] unless it is there
 * already. */
static void list_add_unique(json_t *meta, const char *key, json_t *v, int *failed) {
    json_t *list = json_object_get(meta, key);
    if (!json_is_array(list)) {
        list = json_array();
        jb_set(meta, key, list, failed);
        if (*failed) { /* list may be gone: the build has failed anyway */
            json_decref(v);
            return;
        }
    }
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        if (json_equal(x, v)) {
            json_decref(v);
            return;
        }
    }
    jb_append(list, v, failed);
}

/* The in-memory half of a join: the alert points at the incident, the
 * incident counts the alert. No store access. InternalError when out of
 * memory: the documents are then half changed and must not be saved. */
static int join_apply(json_t *alert, incident *inc, int64_t now, tc_err *err) {
    json_t *d = inc->doc, *m = inc->meta;
    int failed = 0;
    jb_set(
        alert, "incident",
        json_pack("{s:s, s:s}", "incident_id", jstr(d, "incident_id"), "title", jstr(d, "title")),
        &failed);
    int open = strcmp(jstr(alert, "progress"), "Closed") != 0;
    int sev = incident_severity_rank(jstr(alert, "alert_severity"));
    jb_set(d, "alert_cnt", json_integer(jint(d, "alert_cnt") + 1), &failed);
    if (open) {
        jb_set(m, "active_alert_cnt", json_integer(jint(m, "active_alert_cnt") + 1), &failed);
        int cur = incident_severity_rank(jstr(d, "incident_status"));
        jb_set(d, "incident_status", json_string(rank_name(cur > sev ? cur : sev)), &failed);
        jb_set(d, "end_time", json_integer(0), &failed);
    }
    if (!json_is_true(json_object_get(json_object_get(m, "pins"), "incident_severity"))) {
        int cur = incident_severity_rank(jstr(d, "incident_severity"));
        if (sev > cur)
            jb_set(d, "incident_severity", json_string(rank_name(sev)), &failed);
    }
    if (jint(alert, "last_time") > jint(d, "last_time"))
        jb_set(d, "last_time", json_integer(jint(alert, "last_time")), &failed);
    jb_set(m, "last_alert_time", json_integer(now), &failed);
    jb_set(m, "alert_event_cnt",
           json_integer(jint(m, "alert_event_cnt") + jint(alert, "event_cnt")), &failed);
    list_add_unique(m, "integration_ids", json_integer(jint(alert, "data_source_id")), &failed);
    list_add_unique(m, "integration_types", json_string(jstr(alert, "data_source_type")), &failed);
    return jb_done(failed, "joining an alert to an incident", err);
}

/* Fires i_storm for each threshold the incident's alert count has reached
 * and not yet warned about. */
static int storm_fire(writer_txn *txn, incident *inc, const group_rules *rules, tc_err *err) {
    int64_t due[GROUP_MAX_STORM];
    int n = group_storm_due(rules, jint(inc->doc, "alert_cnt"),
                            json_object_get(inc->meta, "storm_fired"), due);
    for (int i = 0; i < n; i++) {
        int failed = 0;
        list_add_unique(inc->meta, "storm_fired", json_integer(due[i]), &failed);
        if (jb_done(failed, "a storm warning", err) != 0 ||
            incident_commit(txn, inc, "i_storm", NULL,
                            json_pack("{s:I}", "threshold", (json_int_t)due[i]), err) != 0)
            return -1;
    }
    return 0;
}

static int groups_forget(writer_txn *txn, const char *incident_id, tc_err *err) {
    store_stmt *st =
        store_prepare(txn->conn, "DELETE FROM incident_groups WHERE incident_id = ?", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, incident_id);
    return store_run(st, err);
}

typedef struct {
    int64_t cnt, active, last_time, max_end;
    int open_rank, any_rank;
} alert_totals;

static int alert_totals_read(store_conn *c, const char *incident_id, alert_totals *t, tc_err *err) {
    memset(t, 0, sizeof(*t));
    store_stmt *q = store_prepare(c,
                                  "SELECT alert_severity, progress, last_time, end_time FROM"
                                  " alerts WHERE incident_id = ?",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, incident_id);
    int step;
    while ((step = store_step(q, err)) == STORE_ROW) {
        int rank = incident_severity_rank(store_col_text(q, 0));
        t->cnt++;
        if (strcmp(store_col_text(q, 1), "Closed") != 0) {
            t->active++;
            if (rank > t->open_rank)
                t->open_rank = rank;
        }
        if (rank > t->any_rank)
            t->any_rank = rank;
        if (store_col_int64(q, 2) > t->last_time)
            t->last_time = store_col_int64(q, 2);
        if (store_col_int64(q, 3) > t->max_end)
            t->max_end = store_col_int64(q, 3);
    }
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

/* engine_incident_refresh with the channel's rules known (rules may be NULL:
 * then they are read when needed), also counting add_events more events of
 * its alerts (meta.alert_event_cnt is kept by addition, not recounted). */
static int refresh(writer_txn *txn, const char *incident_id, const group_rules *rules,
                   int64_t add_events, tc_err *err) {
    incident inc;
    group_rules own;
    group_rules_init(&own);
    alert_totals t;
    int rc = -1;
    if (incident_load(txn->conn, incident_id, &inc, err) != 0) {
        /* removed or unknown: nothing to keep true */
        return err->code == TC_INVALID_PARAMETER ? 0 : -1;
    }
    if (alert_totals_read(txn->conn, incident_id, &t, err) != 0)
        goto out;
    json_t *d = inc.doc, *m = inc.meta;
    int failed = 0;
    int changed =
        set_int(d, "alert_cnt", t.cnt, &failed) | set_int(m, "active_alert_cnt", t.active, &failed);
    if (add_events)
        changed |= set_int(m, "alert_event_cnt", jint(m, "alert_event_cnt") + add_events, &failed);
    if (t.cnt > 0) {
        changed |= set_str(d, "incident_status", rank_name(t.active ? t.open_rank : 0), &failed);
        changed |= set_int(d, "last_time", t.last_time, &failed);
        /* Recovered at the newest recovery; alerts closed without one keep
         * the first time the incident was seen recovered. */
        int64_t end = jint(d, "end_time") ? jint(d, "end_time") : txn->now_ms / 1000;
        changed |= set_int(d, "end_time", t.active ? 0 : (t.max_end ? t.max_end : end), &failed);
        int pinned = json_is_true(json_object_get(json_object_get(m, "pins"), "incident_severity"));
        if (!pinned && t.any_rank > incident_severity_rank(jstr(d, "incident_severity")))
            changed |= set_str(d, "incident_severity", rank_name(t.any_rank), &failed);
    }
    if (jb_done(failed, "refreshing an incident", err) != 0)
        goto out;
    int closing = t.cnt > 0 && t.active == 0 && strcmp(jstr(d, "progress"), "Closed") != 0;
    if (closing && !rules) {
        if (channel_rules(txn->conn, jint(d, "channel_id"), &own, err) != 0)
            goto out;
        rules = &own;
    }
    if (closing && !rules->disable_auto_close) {
        jb_set(d, "progress", json_string("Closed"), &failed);
        jb_set(d, "close_time", json_integer(txn->now_ms / 1000), &failed);
        jb_set(d, "snoozed_before", json_integer(0), &failed);
        jb_set(m, "closer_id", json_integer(0), &failed);
        if (jb_done(failed, "closing an incident", err) != 0 ||
            groups_forget(txn, incident_id, err) != 0 ||
            incident_commit(txn, &inc, "i_rslv", NULL, json_pack("{s:s}", "from", "event"), err) !=
                0)
            goto out;
    } else if (changed && incident_save(txn, &inc, err) != 0) {
        goto out;
    }
    rc = 0;
out:
    group_rules_clear(&own);
    incident_clear(&inc);
    return rc;
}

int engine_incident_refresh(writer_txn *txn, const char *incident_id, tc_err *err) {
    return refresh(txn, incident_id, NULL, 0, err);
}

int engine_alert_join(writer_txn *txn, json_t *alert_doc, incident *inc, const tc_person *who,
                      tc_err *err) {
    group_rules rules;
    int rc = -1;
    if (channel_rules(txn->conn, jint(inc->doc, "channel_id"), &rules, err) != 0)
        return -1;
    const char *incident_id = jstr(inc->doc, "incident_id");
    char *text = NULL;
    if (join_apply(alert_doc, inc, txn->now_ms / 1000, err) != 0 ||
        alert_store(txn, alert_doc, NULL, &text, err) != 0 || incident_save(txn, inc, err) != 0 ||
        incident_feed_add(txn, incident_id, "a_merge", who,
                          json_pack("{s:s, s:s}", "alert_id", jstr(alert_doc, "alert_id"), "title",
                                    jstr(alert_doc, "title")),
                          err) != 0 ||
        alert_announce(txn, alert_doc, text, "a_merge", who, err) != 0 ||
        storm_fire(txn, inc, &rules, err) != 0)
        goto out;
    rc = 0;
out:
    free(text);
    group_rules_clear(&rules);
    return rc;
}

/* ---- one event -------------------------------------------------------------- */

/* What one event brings, computed once. */
typedef struct {
    const engine_source *src;
    engine_event *ev;
    const char *key;
    char *title;
    char hash[EVENT_HASH_LEN + 1];
    int64_t now, time;
    int ok; /* event_status Ok */
} event_ctx;

/* Stores the event (alert_events, doc = AlertEventItem). */
static int event_store(writer_txn *txn, event_ctx *x, const char *alert_id, tc_err *err) {
    char id[IDS_OBJECT_LEN + 1];
    if (ids_object_new(id) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make an event id");
    engine_event *ev = x->ev;
    json_t *doc = json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:I,"
        " s:I, s:I}",
        "event_id", id, "alert_id", alert_id, "account_id", (json_int_t)0, "channel_id",
        (json_int_t)x->src->channel_id, "integration_id", (json_int_t)x->src->integration_id,
        "integration_type", short_type(x->src->type), "data_source_id",
        (json_int_t)x->src->integration_id, "title", x->title, "title_rule", ev->title_rule,
        "description", ev->description ? ev->description : "", "alert_key", x->key,
        "event_severity", ev->event_status, "event_status", ev->event_status, "event_time",
        (json_int_t)x->time, "labels", ev->labels ? json_incref(ev->labels) : json_object(),
        "images", ev->images ? json_incref(ev->images) : json_array(), "created_at",
        (json_int_t)x->now, "updated_at", (json_int_t)x->now, "deleted_at", (json_int_t)0);
    char *text = doc ? jb_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text)
        return tc_err_set(err, TC_INTERNAL, "cannot encode an alert event");
    int rc = -1;
    store_stmt *st = store_prepare(txn->conn,
                                   "INSERT INTO alert_events(event_id,alert_id,integration_id,"
                                   "channel_id,event_status,event_time,doc) VALUES(?,?,?,?,?,?,?)",
                                   err);
    if (st) {
        store_bind_text(st, 1, id);
        store_bind_text(st, 2, alert_id);
        store_bind_int64(st, 3, x->src->integration_id);
        store_bind_int64(st, 4, x->src->channel_id);
        store_bind_text(st, 5, ev->event_status);
        store_bind_int64(st, 6, x->time);
        store_bind_text(st, 7, text);
        rc = store_run(st, err);
    }
    free(text);
    return rc;
}

typedef enum { INC_OPEN, INC_GONE } inc_state;

/* The open alert of (integration, key) and whether its incident still takes
 * events. *doc NULL when there is none. */
static int open_alert_find(writer_txn *txn, event_ctx *x, json_t **doc, char *hash,
                           inc_state *state, tc_err *err) {
    *doc = NULL;
    store_stmt *q =
        store_prepare(txn->conn,
                      "SELECT a.doc, a.event_hash, i.progress, i.deleted_at, a.alert_id"
                      " FROM alerts a LEFT JOIN incidents i ON i.incident_id = a.incident_id"
                      " WHERE a.integration_id = ? AND a.alert_key = ? AND a.progress <> 'Closed'",
                      err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, x->src->integration_id);
    store_bind_text(q, 2, x->key);
    int step = store_step(q, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW) {
        rc = doc_parse(store_col_text(q, 0), "alert", store_col_text(q, 4), doc, err);
        snprintf(hash, EVENT_HASH_LEN + 1, "%s", store_col_text(q, 1));
        int gone = store_col_is_null(q, 2) || strcmp(store_col_text(q, 2), "Closed") == 0 ||
                   store_col_int64(q, 3) != 0;
        *state = gone ? INC_GONE : INC_OPEN;
    }
    store_stmt_done(q);
    return rc;
}

/* An open alert whose incident was closed by hand (or removed): closed, so
 * that the event starts afresh (see the top of this file). */
static int alert_retire(writer_txn *txn, json_t *doc, const group_rules *rules, tc_err *err) {
    int failed = 0;
    jb_set(doc, "progress", json_string("Closed"), &failed);
    jb_set(doc, "close_time", json_integer(txn->now_ms / 1000), &failed);
    json_t *inc = json_object_get(doc, "incident");
    char incident_id[IDS_OBJECT_LEN + 1];
    snprintf(incident_id, sizeof(incident_id), "%s", jstr(inc, "incident_id"));
    char *text = NULL;
    int rc = jb_done(failed, "closing an alert", err) != 0 ||
                     alert_store(txn, doc, NULL, &text, err) != 0 ||
                     alert_feed_add(txn, jstr(doc, "alert_id"), "a_close", NULL, json_object(),
                                    err) != 0 ||
                     alert_announce(txn, doc, text, "a_close", NULL, err) != 0
                 ? -1
                 : 0;
    free(text);
    if (rc != 0)
        return -1;
    return incident_id[0] ? refresh(txn, incident_id, rules, 0, err) : 0;
}

/* The event merges into its open alert. */
static int alert_update(writer_txn *txn, event_ctx *x, json_t *doc, tc_err *err) {
    engine_event *ev = x->ev;
    int failed = 0;
    int changed = set_str(doc, "title", x->title, &failed) |
                  set_str(doc, "title_rule", ev->title_rule, &failed);
    if (ev->description)
        changed |= set_str(doc, "description", ev->description, &failed);
    if (ev->labels)
        changed |= set_json(doc, "labels", ev->labels, &failed);
    if (ev->images)
        changed |= set_json(doc, "images", ev->images, &failed);
    if (x->ok) {
        changed |= set_str(doc, "alert_status", "Ok", &failed) |
                   set_str(doc, "progress", "Closed", &failed);
        jb_set(doc, "end_time", json_integer(x->time), &failed);
        jb_set(doc, "close_time", json_integer(x->now), &failed);
    } else {
        changed |= set_str(doc, "alert_severity", ev->event_status, &failed) |
                   set_str(doc, "alert_status", ev->event_status, &failed);
    }
    jb_set(doc, "last_time", json_integer(x->now), &failed);
    jb_set(doc, "event_cnt", json_integer(jint(doc, "event_cnt") + 1), &failed);
    const char *alert_id = jstr(doc, "alert_id");
    char *text = NULL;
    int rc = jb_done(failed, "updating an alert", err) != 0 ||
                     alert_store(txn, doc, x->hash, &text, err) != 0 ||
                     event_store(txn, x, alert_id, err) != 0 ||
                     (changed && alert_announce(txn, doc, text, "a_update", NULL, err) != 0)
                 ? -1
                 : 0;
    free(text);
    if (rc != 0)
        return -1;
    char incident_id[IDS_OBJECT_LEN + 1];
    snprintf(incident_id, sizeof(incident_id), "%s",
             jstr(json_object_get(doc, "incident"), "incident_id"));
    return incident_id[0] ? refresh(txn, incident_id, &x->src->rules, 1, err) : 0;
}

/* A new alert doc for the event (no incident yet). */
static json_t *alert_build(event_ctx *x) {
    char id[IDS_OBJECT_LEN + 1];
    if (ids_object_new(id) != 0)
        return NULL;
    engine_event *ev = x->ev;
    const engine_source *s = x->src;
    return json_pack(
        "{s:s, s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I,"
        " s:I, s:I, s:o, s:o, s:I}",
        "alert_id", id, "data_source_id", (json_int_t)s->integration_id, "data_source_name",
        s->name, "data_source_type", short_type(s->type), "channel_id", (json_int_t)s->channel_id,
        "channel_name", s->channel_name, "title", x->title, "title_rule", ev->title_rule,
        "description", ev->description ? ev->description : "", "alert_key", x->key,
        "alert_severity", ev->event_status, "alert_status", ev->event_status, "progress",
        "Triggered", "created_at", (json_int_t)x->now, "updated_at", (json_int_t)x->now,
        "start_time", (json_int_t)x->time, "last_time", (json_int_t)x->now, "end_time",
        (json_int_t)0, "close_time", (json_int_t)0, "labels",
        ev->labels ? json_incref(ev->labels) : json_object(), "images",
        ev->images ? json_incref(ev->images) : json_array(), "event_cnt", (json_int_t)1);
}

#define MAX_BUCKETS 16

typedef struct {
    char keys[MAX_BUCKETS][EVENT_HASH_LEN + 1];
    int n;
} buckets;

static int buckets_of(const group_rules *rules, json_t *labels, buckets *b, tc_err *err) {
    b->n = 0;
    if (!group_rules_pattern(rules))
        return 0;
    size_t i;
    json_t *list;
    json_array_foreach(rules->equals, i, list) {
        if (b->n == MAX_BUCKETS)
            break;
        int r = group_key(list, labels, rules->all_equals_required, b->keys[b->n]);
        if (r < 0)
            return tc_err_oom(err, "an event");
        if (r == 0)
            b->n++;
    }
    return 0;
}

/* The newest open incident of the channel in one of the buckets whose
 * window still takes alerts; id[0] = 0 when none. */
static int bucket_find(writer_txn *txn, event_ctx *x, const buckets *b, char *id, tc_err *err) {
    id[0] = '\0';
    for (int k = 0; k < b->n && !id[0]; k++) {
        store_stmt *q = store_prepare(
            txn->conn,
            "SELECT g.incident_id, i.start_time, i.last_alert_time FROM incident_groups g"
            " JOIN incidents i ON i.incident_id = g.incident_id WHERE g.channel_id = ?"
            " AND g.group_key = ? AND i.progress <> 'Closed' AND i.deleted_at = 0"
            " ORDER BY i.start_time DESC",
            err);
        if (!q)
            return -1;
        store_bind_int64(q, 1, x->src->channel_id);
        store_bind_text(q, 2, b->keys[k]);
        int step;
        while ((step = store_step(q, err)) == STORE_ROW) {
            if (group_window_open(&x->src->rules, store_col_int64(q, 1), store_col_int64(q, 2),
                                  x->now)) {
                snprintf(id, IDS_OBJECT_LEN + 1, "%s", store_col_text(q, 0));
                break;
            }
        }
        store_stmt_done(q);
        if (step < 0)
            return -1;
    }
    return 0;
}

static int buckets_store(writer_txn *txn, int64_t channel_id, const buckets *b,
                         const char *incident_id, tc_err *err) {
    for (int k = 0; k < b->n; k++) {
        store_stmt *st = store_prepare(txn->conn,
                                       "INSERT OR IGNORE INTO incident_groups(channel_id,"
                                       "group_key,incident_id) VALUES(?,?,?)",
                                       err);
        if (!st)
            return -1;
        store_bind_int64(st, 1, channel_id);
        store_bind_text(st, 2, b->keys[k]);
        store_bind_text(st, 3, incident_id);
        if (store_run(st, err) != 0)
            return -1;
    }
    return 0;
}

/* The alert's first steps, shared by both joins (the doc already points at
 * its incident): stored, its event stored, its timeline started, a_new.
 * *text receives the saved doc's encoding (caller frees), for a_merge. */
static int alert_begin(writer_txn *txn, event_ctx *x, json_t *doc, char **text, tc_err *err) {
    const char *alert_id = jstr(doc, "alert_id");
    return alert_store(txn, doc, x->hash, text, err) != 0 ||
                   event_store(txn, x, alert_id, err) != 0 ||
                   alert_feed_add(txn, alert_id, "a_new", NULL,
                                  json_pack("{s:s, s:s}", "severity", x->ev->event_status, "status",
                                            x->ev->event_status),
                                  err) != 0 ||
                   alert_announce(txn, doc, *text, "a_new", NULL, err) != 0
               ? -1
               : 0;
}

/* A new incident for the alert: its title, severity, description and labels
 * are the first alert's. */
static int incident_open(writer_txn *txn, event_ctx *x, json_t *doc, const buckets *b,
                         tc_err *err) {
    const engine_source *s = x->src;
    incident inc;
    if (incident_new(txn, x->title, x->ev->event_status, s->channel_id, s->channel_name, &inc,
                     err) != 0)
        return -1;
    char method[2] = {s->rules.method, '\0'};
    int failed = 0;
    jb_set(inc.doc, "description", json_string(jstr(doc, "description")), &failed);
    jb_set(inc.doc, "labels", json_deep_copy(json_object_get(doc, "labels")), &failed);
    jb_set(inc.doc, "group_method", json_string(method), &failed);
    const char *incident_id = jstr(inc.doc, "incident_id");
    char *text = NULL;
    int rc = -1;
    if (jb_done(failed, "a new incident", err) != 0 || join_apply(doc, &inc, x->now, err) != 0 ||
        alert_begin(txn, x, doc, &text, err) != 0 ||
        incident_commit(txn, &inc, "i_new", NULL,
                        json_pack("{s:s, s:s}", "severity", x->ev->event_status, "title", x->title),
                        err) != 0 ||
        buckets_store(txn, s->channel_id, b, incident_id, err) != 0 ||
        alert_announce(txn, doc, text, "a_merge", NULL, err) != 0 ||
        storm_fire(txn, &inc, &s->rules, err) != 0)
        goto out;
    rc = 0;
out:
    free(text);
    incident_clear(&inc);
    return rc;
}

/* The alert joins an open incident found by its bucket. */
static int incident_grow(writer_txn *txn, event_ctx *x, json_t *doc, const char *incident_id,
                         tc_err *err) {
    incident inc;
    if (incident_load(txn->conn, incident_id, &inc, err) != 0)
        return -1;
    char *text = NULL;
    int rc = -1;
    if (join_apply(doc, &inc, x->now, err) != 0 || alert_begin(txn, x, doc, &text, err) != 0 ||
        incident_save(txn, &inc, err) != 0 ||
        incident_feed_add(
            txn, incident_id, "a_merge", NULL,
            json_pack("{s:s, s:s}", "alert_id", jstr(doc, "alert_id"), "title", x->title),
            err) != 0 ||
        alert_announce(txn, doc, text, "a_merge", NULL, err) != 0 ||
        storm_fire(txn, &inc, &x->src->rules, err) != 0)
        goto out;
    rc = 0;
out:
    free(text);
    incident_clear(&inc);
    return rc;
}

static int alert_create(writer_txn *txn, event_ctx *x, engine_result *out, tc_err *err) {
    json_t *doc = alert_build(x);
    if (!doc)
        return tc_err_set(err, TC_INTERNAL, "cannot build an alert");
    buckets b;
    char target[IDS_OBJECT_LEN + 1];
    int rc = -1;
    if (buckets_of(&x->src->rules, x->ev->labels, &b, err) != 0 ||
        bucket_find(txn, x, &b, target, err) != 0)
        goto out;
    rc = target[0] ? incident_grow(txn, x, doc, target, err) : incident_open(txn, x, doc, &b, err);
    if (rc == 0)
        snprintf(out->alert_id, sizeof(out->alert_id), "%s", jstr(doc, "alert_id"));
out:
    json_decref(doc);
    return rc;
}

static int ingest_one(writer_txn *txn, const engine_source *src, engine_event *ev,
                      engine_result *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    event_ctx x = {.src = src, .ev = ev, .now = txn->now_ms / 1000};
    x.time = ev->event_time > 0 && ev->event_time <= x.now ? ev->event_time : x.now;
    x.ok = strcmp(ev->event_status, "Ok") == 0;
    if (!ev->alert_key || !*ev->alert_key) {
        if (x.ok)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "alert_key is required for an Ok event (it names the alert to "
                              "recover)");
        char key[EVENT_HASH_LEN + 1];
        free(ev->alert_key);
        ev->alert_key = NULL;
        if (event_key_derive(ev->title_rule, ev->labels, key) != 0 ||
            !(ev->alert_key = strdup(key)))
            return tc_err_oom(err, "an event");
    }
    x.key = ev->alert_key;
    snprintf(out->alert_key, sizeof(out->alert_key), "%s", x.key);
    json_t *doc = NULL;
    char prev_hash[EVENT_HASH_LEN + 1] = "";
    inc_state state = INC_OPEN;
    int rc = -1;
    if (event_content_hash(ev->event_status, ev->title_rule, ev->description, ev->labels,
                           ev->images, x.hash) != 0) {
        tc_err_oom(err, "an event");
        goto out;
    }
    if (open_alert_find(txn, &x, &doc, prev_hash, &state, err) != 0)
        goto out;
    if (doc && state == INC_GONE) {
        if (alert_retire(txn, doc, &src->rules, err) != 0)
            goto out;
        json_decref(doc);
        doc = NULL;
    }
    /* An event without labels (an Ok that names only its key) keeps the
     * alert's labels, so its title is rendered from those. */
    x.title = title_rule_render(ev->title_rule,
                                ev->labels || !doc ? ev->labels : json_object_get(doc, "labels"));
    if (!x.title) {
        tc_err_oom(err, "an event");
        goto out;
    }
    if (doc && strcmp(prev_hash, x.hash) == 0) {
        out->dropped = 1; /* identical to the previous event of its alert */
        snprintf(out->alert_id, sizeof(out->alert_id), "%s", jstr(doc, "alert_id"));
        rc = 0;
    } else if (doc) {
        rc = alert_update(txn, &x, doc, err);
        if (rc == 0)
            snprintf(out->alert_id, sizeof(out->alert_id), "%s", jstr(doc, "alert_id"));
    } else if (x.ok) {
        out->dropped = 1; /* nothing open to recover */
        rc = 0;
    } else {
        rc = alert_create(txn, &x, out, err);
    }
out:
    json_decref(doc);
    free(x.title);
    return rc;
}

int engine_ingest_many(writer_txn *txn, const char *integration_key, const char *expected_type,
                       engine_event *evs, size_t n, engine_result *out, tc_err *err) {
    engine_source src;
    if (source_find(txn->conn, integration_key, expected_type, &src, err) != 0) {
        group_rules_clear(&src.rules);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = ingest_one(txn, &src, &evs[i], &out[i], err);
    group_rules_clear(&src.rules);
    return rc;
}

int engine_ingest(writer_txn *txn, const char *integration_key, const char *expected_type,
                  engine_event *ev, engine_result *out, tc_err *err) {
    return engine_ingest_many(txn, integration_key, expected_type, ev, 1, out, err);
}
