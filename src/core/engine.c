/* engine.c: from event to alert to incident (see engine.h).
 *
 * One event, inside one writer command, decided against the writer's cache
 * (core/state.h) before anything is written:
 *
 *   source   the integration named by the key (enabled, of the expected
 *            type) and its channel, with its `group` rules;
 *   dedupe   the open alert of (integration, alert_key). An event whose
 *            content hash equals the alert's newest is dropped. Otherwise
 *            it merges (a_update when the alert changed); Ok recovers and
 *            closes it.
 *   new      no open alert: a new alert (a_new) that joins an incident:
 *            method n its own (i_new), p the channel's open incident found
 *            by bucket key inside the time window, else a new one (i_new);
 *            a_merge either way; i_storm when the alert count reaches a
 *            threshold not yet warned about.
 *   refresh  after an alert changes, its incident's status and counters
 *            follow from the open alerts the cache counts per status; when
 *            none is open any more the incident recovers and closes by
 *            itself (i_rslv, no person).
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
 * time of arrival.
 *
 * Order inside a change: the cache first (alert_track, incident_track), so
 * that counts and status are known; then the events, whose bodies render
 * the objects as they now are and whose pushes number the objects' lanes;
 * then the rows. */
#include "core/engine.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alert.h"
#include "core/change.h"
#include "core/channel_rules.h"
#include "core/escalation.h"
#include "core/event_input.h"
#include "core/outbox.h"
#include "core/render.h"
#include "core/state.h"
#include "core/title_rule.h"
#include "store/alert_events.h"
#include "store/config.h"
#include "store/incidents.h"
#include "util/doc.h"
#include "util/ids.h"
#include "util/jbuild.h"
#include "util/jw.h"

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
    free(ev->title);
    free(ev->labels_text);
    free(ev->images_text);
    engine_event_init(ev);
}

int engine_event_prepare(engine_event *ev, tc_err *err) {
    if (!ev->event_status || model_rank_parse(ev->event_status) < 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "event_status must be Critical, Warning, Info or Ok");
    int ok = strcmp(ev->event_status, "Ok") == 0;
    if (!ev->alert_key || !*ev->alert_key) {
        if (ok)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "alert_key is required for an Ok event (it names the alert to "
                              "recover)");
        char key[EVENT_HASH_LEN + 1];
        free(ev->alert_key);
        ev->alert_key = NULL;
        if (event_key_derive(ev->title_rule, ev->labels, key) != 0 ||
            !(ev->alert_key = strdup(key)))
            return tc_err_oom(err, "an event's alert_key");
    }
    if (event_content_hash(ev->event_status, ev->title_rule, ev->description, ev->labels,
                           ev->images, ev->hash) != 0 ||
        !(ev->title = title_rule_render(ev->title_rule, ev->labels)) ||
        (ev->labels && !(ev->labels_text = jb_dumps(ev->labels, JSON_COMPACT))) ||
        (ev->images && !(ev->images_text = jb_dumps(ev->images, JSON_COMPACT))))
        return tc_err_oom(err, "an event");
    ev->prepared = 1;
    return 0;
}

/* ---- the alert source ---------------------------------------------------- */

/* Constant-time equality of two keys of public length. */
static int keys_equal(const char *stored, const char *given) {
    size_t n = strlen(given);
    return stored && strlen(stored) == n && CRYPTO_memcmp(stored, given, n) == 0;
}

/* The refusal for a source found (or not) by its key's hash, in the order
 * the checks have always been made. */
static int source_verdict(int found, const char *type, const char *stored_key, const char *key,
                          const char *expected_type, int channel_exists, const char *channel_status,
                          const char *channel_name, tc_err *err) {
    if (!found || !keys_equal(stored_key, key))
        return tc_err_set(
            err, TC_UNAUTHORIZED,
            "integration_key is not valid (unknown, disabled or deleted integration)");
    if (strcmp(type, expected_type) != 0)
        return tc_err_set(err, TC_UNAUTHORIZED,
                          "integration_key is not the key of an %s integration; use the push URL "
                          "of its own type",
                          expected_type);
    if (!channel_exists || strcmp(channel_status, "deleted") == 0)
        return tc_err_set(err, TC_UNAUTHORIZED,
                          "integration_key is not valid (its channel is gone)");
    if (strcmp(channel_status, "enabled") != 0)
        return tc_err_set(err, TC_ACCESS_DENIED, "channel %s is disabled: it takes no %s",
                          channel_name,
                          strcmp(expected_type, CHANGE_TYPE) == 0 ? "changes" : "alerts");
    return 0;
}

static int key_hash_of(const char *key, char *hash, tc_err *err) {
    if (!key || !*key || strlen(key) > 256)
        return tc_err_set(err, TC_UNAUTHORIZED, "integration_key is not valid");
    /* Found by the key's hash, then compared in constant time: neither the
     * lookup nor the comparison tells a guesser how much of a key was
     * right (migration 003). */
    ids_sha256_hex(key, strlen(key), hash);
    return 0;
}

int engine_source_check(store_conn *c, const char *integration_key, const char *expected_type,
                        tc_err *err) {
    char hash[65];
    store_source_row row;
    if (key_hash_of(integration_key, hash, err) != 0 ||
        store_config_source(c, hash, &row, err) != 0)
        return -1;
    /* A source routed to no channel (change sources only) has none to check. */
    if (row.found && row.channel_id == 0)
        return source_verdict(1, row.type, row.key, integration_key, expected_type, 1, "enabled",
                              "", err);
    return source_verdict(row.found, row.type, row.key, integration_key, expected_type,
                          row.channel_status[0] != 0, row.channel_status, row.channel_name, err);
}

static int source_resolve(writer_txn *txn, const char *key, const char *key_hash,
                          const char *expected_type, const state_source **src,
                          const state_channel **ch, tc_err *err) {
    char hash[65];
    const char *stored_key = NULL;
    *ch = NULL;
    if (key_hash && key && *key && strlen(key) <= 256)
        memcpy(hash, key_hash, sizeof(hash));
    else if (key_hash_of(key, hash, err) != 0)
        return -1;
    if (state_source_find(txn->state, txn->conn, hash, src, &stored_key, err) != 0)
        return -1;
    if (*src && state_channel_find(txn->state, txn->conn, (*src)->channel_id, ch, err) != 0)
        return -1;
    return source_verdict(*src != NULL, *src ? (*src)->type : "", stored_key, key, expected_type,
                          *ch != NULL, *ch ? (*ch)->status : "", *ch ? (*ch)->name : "", err);
}

int engine_source_ids(writer_txn *txn, const char *integration_key, const char *key_hash,
                      const char *expected_type, int64_t *integration_id, int64_t *channel_id,
                      tc_err *err) {
    char hash[65];
    const char *stored_key = NULL;
    const state_source *src = NULL;
    const state_channel *ch = NULL;
    if (key_hash && integration_key && *integration_key && strlen(integration_key) <= 256)
        memcpy(hash, key_hash, sizeof(hash));
    else if (key_hash_of(integration_key, hash, err) != 0)
        return -1;
    if (state_source_find(txn->state, txn->conn, hash, &src, &stored_key, err) != 0)
        return -1;
    /* A source routed to no channel (channel_id 0, change sources only)
     * has no channel to check; one whose channel is gone still fails. */
    int routed = src && src->channel_id != 0;
    if (routed && state_channel_find(txn->state, txn->conn, src->channel_id, &ch, err) != 0)
        return -1;
    if (source_verdict(src != NULL, src ? src->type : "", stored_key, integration_key,
                       expected_type, routed ? ch != NULL : 1,
                       routed && ch ? ch->status : "enabled", ch ? ch->name : "", err) != 0)
        return -1;
    *integration_id = src->integration_id;
    *channel_id = routed ? ch->channel_id : 0;
    return 0;
}

/* ---- small helpers ---------------------------------------------------------- */

/* A FeedDetail of string members, e.g. {"severity":"Critical","title":"..."}. */
static char *detail_strings(const char *k1, const char *v1, const char *k2, const char *v2) {
    jw w;
    jw_init(&w);
    jw_object_begin(&w);
    jw_kstring(&w, k1, v1);
    if (k2)
        jw_kstring(&w, k2, v2);
    jw_object_end(&w);
    return jw_take(&w, NULL);
}

/* Adds v to the JSON list text *list unless it is there already. */
static int list_add_unique(char **list, json_t *v, const char *what, tc_err *err) {
    json_t *arr = NULL;
    int rc = -1;
    if (doc_parse(*list && **list ? *list : "[]", what, "", &arr, err) != 0) {
        json_decref(v);
        return -1;
    }
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        if (json_equal(x, v)) {
            json_decref(v);
            json_decref(arr);
            return 0;
        }
    }
    char *text = NULL;
    if (json_array_append_new(arr, v) == 0 && (text = jb_dumps(arr, JSON_COMPACT))) {
        free(*list);
        *list = text;
        rc = 0;
    } else {
        tc_err_oom(err, what);
    }
    json_decref(arr);
    return rc;
}

/* The open alerts the cache counts for an incident: how many, and the
 * highest status among them. */
static int64_t open_alerts(const state_incident *e, int *top) {
    int64_t n = 0;
    *top = RANK_OK;
    for (int r = 0; r < 4; r++) {
        n += e->open_by_status[r];
        if (e->open_by_status[r] > 0)
            *top = r;
    }
    return n;
}

/* Status, active count and end_time from the cache's counts. The incident
 * recovers (status Ok, end_time its newest alert recovery) only when the
 * change that left it no open alert was a recovery (`recovery`); an alert
 * closed by hand is no recovery (reference/webhooks.md: end_time is the
 * recovery time), so then status and end_time stay as they were. */
static void apply_counts(tc_incident *inc, const state_incident *e, int recovery, int64_t now) {
    if (!e || inc->alert_cnt == 0)
        return;
    int top;
    int64_t active = open_alerts(e, &top);
    inc->active_alert_cnt = active;
    if (active) {
        inc->status = top;
        inc->end_time = 0;
    } else if (recovery) {
        int64_t end = inc->end_time ? inc->end_time : now;
        inc->status = RANK_OK;
        inc->end_time = inc->max_alert_end ? inc->max_alert_end : end;
    }
}

static void raise_severity(tc_incident *inc, int rank) {
    if (rank > inc->severity && !model_incident_pinned(inc, "incident_severity"))
        inc->severity = rank;
}

/* Fires i_storm for each threshold the alert count has reached and that
 * was not yet warned about. */
static int storm_fire(writer_txn *txn, tc_incident *inc, const group_rules *rules, tc_err *err) {
    if (!rules || rules->nstorm == 0)
        return 0;
    json_t *fired = NULL;
    if (doc_parse(inc->storm_fired && *inc->storm_fired ? inc->storm_fired : "[]",
                  "incident storm_fired", inc->incident_id, &fired, err) != 0)
        return -1;
    int64_t due[GROUP_MAX_STORM];
    int n = group_storm_due(rules, inc->alert_cnt, fired, due);
    json_decref(fired);
    for (int i = 0; i < n; i++) {
        json_t *detail = json_pack("{s:I}", "threshold", (json_int_t)due[i]);
        if (!detail)
            return tc_err_oom(err, "a storm warning");
        if (list_add_unique(&inc->storm_fired, json_integer(due[i]), "incident storm_fired", err) !=
            0) {
            json_decref(detail);
            return -1;
        }
        if (incident_commit(txn, inc, "i_storm", NULL, detail, err) != 0)
            return -1;
    }
    return 0;
}

/* i_rslv with no person: every alert of the incident recovered. */
static int close_by_event(writer_txn *txn, tc_incident *inc, tc_err *err) {
    json_t *detail = json_pack("{s:s}", "from", "event");
    if (!detail)
        return tc_err_oom(err, "a timeline entry");
    return incident_commit(txn, inc, "i_rslv", NULL, detail, err);
}

/* The rules of a channel (none when it is unknown). */
static const group_rules *rules_of(writer_txn *txn, int64_t channel_id, tc_err *err, int *failed) {
    const state_channel *ch = NULL;
    *failed = state_channel_find(txn->state, txn->conn, channel_id, &ch, err) != 0;
    return ch ? &ch->rules : NULL;
}

/* ---- one event --------------------------------------------------------------- */

typedef struct {
    const state_source *src;
    const state_channel *ch;
    engine_event *ev;
    const char *key;
    const char *title;
    int64_t now, time;
    int ok;   /* event_status Ok */
    int rank; /* the event's status as a rank */
} event_ctx;

/* The raw event (AlertEventItem), as the alert now is. */
static int raw_event_store(writer_txn *txn, event_ctx *x, const tc_alert *a, tc_err *err) {
    store_alert_event_row row = {
        .alert_id = a->alert_id,
        .integration_id = x->src->integration_id,
        .channel_id = x->src->channel_id,
        .alert_key = x->key,
        .event_severity = x->ev->event_status,
        .event_status = x->ev->event_status,
        .event_time = x->time,
        .created_at = x->now,
        .title = x->title,
        .title_rule = x->ev->title_rule,
        .description = x->ev->description ? x->ev->description : "",
        .labels = x->ev->labels_text ? x->ev->labels_text : "{}",
        .images = x->ev->images_text ? x->ev->images_text : "[]",
    };
    if (ids_object_new(row.event_id) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make an event id");
    return store_alert_events_insert(txn->conn, &row, err);
}

/* Copies s into *field when it differs; 1 when it changed, -1 when out of
 * memory. */
static int set_if_changed(char **field, const char *s) {
    if (*field && strcmp(*field, s) == 0)
        return 0;
    return model_set_str(field, s) == 0 ? 1 : -1;
}

/* An open alert whose incident was closed by hand (or removed): closed, so
 * that the event starts afresh (see the top of this file). */
static int alert_retire(writer_txn *txn, const state_alert *open, tc_err *err) {
    tc_alert a;
    if (alert_load(txn->conn, open->alert_id, &a, err) != 0)
        return -1;
    char incident_id[IDS_OBJECT_LEN + 1];
    memcpy(incident_id, a.incident_id, sizeof(incident_id));
    a.progress = PROGRESS_CLOSED;
    a.close_time = txn->now_ms / 1000;
    /* Its body names the incident by its current title (read here: an
     * alert is retired once, not on every event). */
    tc_incident inc;
    tc_incident_init(&inc);
    int rc =
        (incident_id[0] && store_incidents_load(txn->conn, incident_id, 1, &inc, err) != 0 &&
         err->code != TC_INVALID_PARAMETER) || /* a row gone: no title */
                alert_track(txn, &a, err) != 0 ||
                alert_emit(txn, &a, "a_close", NULL, "{}", inc.title ? inc.title : "", err) != 0 ||
                alert_write(txn, &a, err) != 0
            ? -1
            : 0;
    tc_alert_clear(&a);
    tc_incident_clear(&inc);
    if (rc != 0)
        return -1;
    return incident_id[0] ? engine_incident_refresh(txn, incident_id, err) : 0;
}

/* Whether the event differs from what its open alert says only in its
 * labels (and so in a title made from them): same status, title_rule, and
 * the description and images it gives. Such an event updates the alert's
 * labels (a_update) without counting as a new event (reference/
 * event-api.md): event_cnt, last_time and the alert's events stay, and its
 * incident does not change. Decided on the alert already loaded: no store
 * read of its own. */
static int labels_only_change(const tc_alert *a, const event_ctx *x) {
    const engine_event *ev = x->ev;
    return !x->ok && x->rank == a->status && x->rank == a->severity && ev->labels_text &&
           strcmp(ev->labels_text, a->labels ? a->labels : "{}") != 0 && a->title_rule &&
           strcmp(ev->title_rule, a->title_rule) == 0 &&
           (!ev->description || (a->description && strcmp(ev->description, a->description) == 0)) &&
           (!ev->images_text || (a->images && strcmp(ev->images_text, a->images) == 0));
}

/* Copies the event's title, description, labels and images into the alert:
 * 1 when something changed, 0 when not, -1 when out of memory. */
static int event_content(event_ctx *x, tc_alert *a) {
    engine_event *ev = x->ev;
    int changed = 0, c;
    if ((c = set_if_changed(&a->title, x->title)) < 0 ||
        (changed |= c, c = set_if_changed(&a->title_rule, ev->title_rule)) < 0 ||
        (changed |= c, c = ev->description ? set_if_changed(&a->description, ev->description) : 0) <
            0 ||
        (changed |= c, c = ev->labels_text ? set_if_changed(&a->labels, ev->labels_text) : 0) < 0 ||
        (changed |= c, c = ev->images_text ? set_if_changed(&a->images, ev->images_text) : 0) < 0)
        return -1;
    return changed | c;
}

/* The event merges into its open alert (in an open incident, or in none
 * while rules muted it). */
static int alert_update(writer_txn *txn, event_ctx *x, state_alert *open, engine_result *out,
                        tc_err *err) {
    engine_event *ev = x->ev;
    tc_alert a;
    tc_incident inc;
    tc_incident_init(&inc);
    if (alert_load(txn->conn, open->alert_id, &a, err) != 0)
        return -1;
    int labels_only = labels_only_change(&a, x);
    int rc = -1, changed = event_content(x, &a);
    if (changed < 0) {
        tc_err_oom(err, "an alert");
        goto out;
    }
    if (x->ok) {
        changed |= a.status != RANK_OK || a.progress != PROGRESS_CLOSED;
        a.status = RANK_OK;
        a.progress = PROGRESS_CLOSED;
        a.end_time = x->time;
        a.close_time = x->now;
    } else {
        changed |= a.severity != x->rank || a.status != x->rank;
        a.severity = a.status = x->rank;
    }
    if (!labels_only) {
        a.last_time = x->now;
        a.event_cnt++;
    }
    memcpy(a.event_hash, ev->hash, sizeof(a.event_hash));
    snprintf(out->alert_id, sizeof(out->alert_id), "%s", a.alert_id);
    if (alert_track(txn, &a, err) != 0)
        goto out;
    const char *incident_title = "";
    state_incident *e = a.incident_id[0] ? state_incident_find(txn->state, a.incident_id) : NULL;
    int closing = 0;
    if (e) {
        if (incident_load(txn->conn, a.incident_id, &inc, err) != 0)
            goto out;
        incident_title = inc.title;
    }
    if (labels_only) {
        /* Nothing of the incident changes: no count, no status. An alert
         * that rules muted from its start was never announced (below). */
        int seen = a.incident_id[0] || !a.ever_muted;
        rc = (seen && alert_emit(txn, &a, "a_update", NULL, NULL, incident_title, err) != 0) ||
                     alert_write(txn, &a, err) != 0
                 ? -1
                 : 0;
        goto out;
    }
    if (e) {
        inc.alert_event_cnt++;
        if (a.last_time > inc.last_time)
            inc.last_time = a.last_time;
        if (a.end_time > inc.max_alert_end)
            inc.max_alert_end = a.end_time;
        raise_severity(&inc, a.severity);
        apply_counts(&inc, e, x->ok, x->now);
        closing =
            inc.alert_cnt > 0 && inc.active_alert_cnt == 0 && !x->ch->rules.disable_auto_close;
        if (closing) {
            inc.progress = PROGRESS_CLOSED;
            inc.close_time = x->now;
            inc.snoozed_before = 0;
            inc.closer_id = 0;
        }
    }
    /* An alert that rules muted from its start was never announced, so its
     * recovery is not either (no webhook fires for muted alerts). */
    int announced = a.incident_id[0] || !a.ever_muted;
    if ((changed && announced &&
         alert_emit(txn, &a, "a_update", NULL, NULL, incident_title, err) != 0) ||
        alert_write(txn, &a, err) != 0 || raw_event_store(txn, x, &a, err) != 0 ||
        state_inhibit_note(txn->state, x->ch, &a, err) != 0)
        goto out;
    if (e && closing)
        rc = close_by_event(txn, &inc, err);
    else
        rc = e ? incident_save(txn, &inc, err) : 0;
out:
    tc_alert_clear(&a);
    tc_incident_clear(&inc);
    return rc;
}

/* A new alert for the event (not yet in an incident, not stored). */
static int alert_build(event_ctx *x, tc_alert *a, tc_err *err) {
    tc_alert_init(a);
    if (ids_object_new(a->alert_id) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make an alert id");
    engine_event *ev = x->ev;
    a->integration_id = x->src->integration_id;
    a->channel_id = x->src->channel_id;
    a->progress = PROGRESS_TRIGGERED;
    a->severity = a->status = x->rank;
    a->start_time = x->time;
    a->last_time = x->now;
    a->created_at = a->updated_at = x->now;
    a->event_cnt = 1;
    memcpy(a->event_hash, ev->hash, sizeof(a->event_hash));
    if (model_set_str(&a->alert_key, x->key) != 0 || model_set_str(&a->title, x->title) != 0 ||
        model_set_str(&a->title_rule, ev->title_rule) != 0 ||
        model_set_str(&a->description, ev->description ? ev->description : "") != 0 ||
        model_set_str(&a->labels, ev->labels_text ? ev->labels_text : "{}") != 0 ||
        model_set_str(&a->images, ev->images_text ? ev->images_text : "[]") != 0) {
        tc_alert_clear(a);
        return tc_err_oom(err, "an alert");
    }
    return 0;
}

#define MAX_BUCKETS 16

/* The grouping keys the alert's labels give under the rules. */
static int buckets_of(const group_rules *rules, json_t *labels, char (*keys)[EVENT_HASH_LEN + 1],
                      int *n, tc_err *err) {
    *n = 0;
    if (!group_rules_pattern(rules))
        return 0;
    size_t i;
    json_t *list;
    json_array_foreach(rules->equals, i, list) {
        if (*n == MAX_BUCKETS)
            break;
        int r = group_key(list, labels, rules->all_equals_required, keys[*n]);
        if (r < 0)
            return tc_err_oom(err, "a grouping key");
        if (r == 0)
            (*n)++;
    }
    return 0;
}

static char *keys_json(char (*keys)[EVENT_HASH_LEN + 1], int n) {
    jw w;
    jw_init(&w);
    jw_array_begin(&w);
    for (int i = 0; i < n; i++)
        jw_string(&w, keys[i]);
    jw_array_end(&w);
    return jw_take(&w, NULL);
}

/* A new incident for the alert: its title, severity, description and
 * labels are the first alert's. */
static int incident_open_for(writer_txn *txn, event_ctx *x, const tc_alert *a,
                             char (*keys)[EVENT_HASH_LEN + 1], int nkeys, tc_incident *inc,
                             tc_err *err) {
    if (incident_new(txn, x->title, x->rank, x->src->channel_id, inc, err) != 0)
        return -1;
    char type_list[64];
    char id_list[32];
    snprintf(id_list, sizeof(id_list), "[%lld]", (long long)x->src->integration_id);
    snprintf(type_list, sizeof(type_list), "[\"%s\"]", render_source_type(x->src->type));
    char *group_keys = keys_json(keys, nkeys);
    inc->group_method = x->ch->rules.method;
    int failed = !group_keys || model_set_str(&inc->description, a->description) != 0 ||
                 model_set_str(&inc->labels, a->labels) != 0 ||
                 model_set_str(&inc->integration_ids, id_list) != 0 ||
                 model_set_str(&inc->integration_types, type_list) != 0;
    free(inc->group_keys);
    inc->group_keys = group_keys;
    return failed ? tc_err_oom(err, "an incident") : 0;
}

/* The in-memory half of a join that is not about counts: the alert points
 * at the incident, the incident counts the alert and its events. */
static int join_fields(tc_alert *a, tc_incident *inc, const state_source *src, int64_t now,
                       tc_err *err) {
    memcpy(a->incident_id, inc->incident_id, sizeof(a->incident_id));
    inc->alert_cnt++;
    inc->alert_event_cnt += a->event_cnt;
    raise_severity(inc, a->severity);
    if (a->last_time > inc->last_time)
        inc->last_time = a->last_time;
    inc->last_alert_time = now;
    if (!src)
        return 0;
    return list_add_unique(&inc->integration_ids, json_integer(src->integration_id),
                           "incident integration_ids", err) != 0 ||
                   list_add_unique(&inc->integration_types,
                                   json_string(render_source_type(src->type)),
                                   "incident integration_types", err) != 0
               ? -1
               : 0;
}

/* An open alert that rules muted so far takes an event that goes through:
 * it gets the event as alert_update would give it, then joins an incident
 * like a new alert (announced then with a_new: webhooks never saw it). */
static int alert_resume(writer_txn *txn, event_ctx *x, const state_alert *open, tc_alert *a,
                        tc_err *err) {
    if (alert_load(txn->conn, open->alert_id, a, err) != 0)
        return -1;
    if (event_content(x, a) < 0) {
        tc_alert_clear(a);
        return tc_err_oom(err, "an alert");
    }
    a->severity = a->status = x->rank;
    a->last_time = x->now;
    a->event_cnt++;
    memcpy(a->event_hash, x->ev->hash, sizeof(a->event_hash));
    return 0;
}

/* A new alert (open NULL), or an open one outside any incident, joins an
 * incident. */
static int alert_create(writer_txn *txn, event_ctx *x, const state_alert *open, engine_result *out,
                        tc_err *err) {
    tc_alert a;
    tc_incident inc;
    tc_incident_init(&inc);
    char keys[MAX_BUCKETS][EVENT_HASH_LEN + 1];
    int nkeys = 0, rc = -1;
    char *a_new = NULL, *i_new = NULL, *a_merge = NULL;
    if ((open ? alert_resume(txn, x, open, &a, err) : alert_build(x, &a, err)) != 0)
        return -1;
    const group_rules *rules = &x->ch->rules;
    if (buckets_of(rules, x->ev->labels, keys, &nkeys, err) != 0)
        goto out;
    state_incident *target =
        nkeys ? state_bucket_find(txn->state, x->src->channel_id, keys, nkeys, rules, x->now)
              : NULL;
    int grow = target != NULL;
    if (grow ? incident_load(txn->conn, target->incident_id, &inc, err)
             : incident_open_for(txn, x, &a, keys, nkeys, &inc, err))
        goto out;
    /* The rule a new incident follows is chosen before the first write
     * (ingest runs without a SAVEPOINT); a channel without enabled rules
     * reads nothing. */
    store_escalation esc;
    int escalates = 0;
    if (!grow && escalation_choose(txn, &inc, x->ch->escalate_rules, &esc, &escalates, err) != 0)
        goto out;
    if (join_fields(&a, &inc, grow ? x->src : NULL, x->now, err) != 0 ||
        incident_track(txn, &inc, err) != 0 || alert_track(txn, &a, err) != 0)
        goto out;
    apply_counts(&inc, state_incident_find(txn->state, inc.incident_id), 0, x->now);
    a_new = detail_strings("severity", x->ev->event_status, "status", x->ev->event_status);
    i_new = grow ? NULL : detail_strings("severity", x->ev->event_status, "title", x->title);
    a_merge = grow ? detail_strings("alert_id", a.alert_id, "title", x->title) : NULL;
    if (!a_new || (grow ? !a_merge : !i_new)) {
        tc_err_oom(err, "a timeline entry");
        goto out;
    }
    /* The first timeline entry of a new alert and of a new incident goes
     * into their rows (migration 011), not into the event log. An alert
     * that rules muted until now is stored already, with its timeline
     * begun: its a_new is a timeline row in its place. */
    if (!open) {
        a.new_at = txn->now_ms;
        a.new_detail = a_new;
        a_new = NULL;
    }
    if (alert_emit(txn, &a, "a_new", NULL, a_new, inc.title, err) != 0)
        goto out;
    if (!grow) {
        inc.new_at = txn->now_ms;
        inc.new_detail = i_new;
        i_new = NULL;
        outbox_event ev = {.event_type = "i_new", .incident = &inc};
        if (outbox_emit(txn, &ev, NULL, err) != 0)
            goto out;
    }
    /* a_merge: on the incident's timeline only when it joined one that was
     * there before (a new incident's timeline starts with i_new). */
    outbox_event merge = {.event_type = "a_merge",
                          .feed_ref = grow ? inc.incident_id : NULL,
                          .detail = a_merge,
                          .alert = &a,
                          .incident_title = inc.title};
    if (outbox_emit(txn, &merge, NULL, err) != 0 || storm_fire(txn, &inc, rules, err) != 0 ||
        incident_write(txn, &inc, err) != 0 || alert_write(txn, &a, err) != 0 ||
        raw_event_store(txn, x, &a, err) != 0 ||
        state_inhibit_note(txn->state, x->ch, &a, err) != 0 ||
        (escalates && escalation_begin(txn, &esc, err) != 0))
        goto out;
    snprintf(out->alert_id, sizeof(out->alert_id), "%s", a.alert_id);
    rc = 0;
out:
    free(a_new);
    free(i_new);
    free(a_merge);
    tc_alert_clear(&a);
    tc_incident_clear(&inc);
    return rc;
}

/* The alert's labels as stored, for the title of an event that has none. */
static char *title_from_alert(writer_txn *txn, const state_alert *open, const char *rule,
                              tc_err *err) {
    tc_alert a;
    json_t *labels = NULL;
    char *title = NULL;
    if (alert_load(txn->conn, open->alert_id, &a, err) != 0)
        return NULL;
    if (doc_parse(a.labels, "alert labels", a.alert_id, &labels, err) == 0 &&
        !(title = title_rule_render(rule, labels)))
        tc_err_oom(err, "an alert's title");
    json_decref(labels);
    tc_alert_clear(&a);
    return title;
}

/* ---- channel rules (core/channel_rules.h) ------------------------------------------ */

static rule_subject event_subject(const event_ctx *x, const char *title) {
    rule_subject s = {.severity = x->ev->event_status,
                      .title = title,
                      .description = x->ev->description,
                      .alert_key = x->key,
                      .data_source_id = x->src->integration_id,
                      .labels = x->ev->labels};
    return s;
}

/* The first inhibit rule whose target the event matches and whose source
 * is among the channel's recent open alerts (not the event's own), or NULL. */
static int inhibit_judge(writer_txn *txn, const event_ctx *x, const rule_subject *subj,
                         const chan_rule **out, tc_err *err) {
    const chan_rules *rs = &x->ch->filters;
    inhibit_sources *list = NULL;
    *out = NULL;
    for (size_t i = 0; i < rs->n[RULE_INHIBIT]; i++) {
        const chan_rule *r = &rs->of[RULE_INHIBIT][i];
        if (!rule_filter_match(r->target, subj, 0))
            continue;
        if (!list && state_inhibit_sources(txn->state, txn->conn, x->now, &list, err) != 0)
            return -1;
        for (size_t j = 0; j < inhibit_sources_count(list); j++) {
            const inhibit_source *e = inhibit_sources_at(list, j);
            if (e->channel_id != x->src->channel_id ||
                (e->subject.data_source_id == x->src->integration_id &&
                 strcmp(e->subject.alert_key, x->key) == 0) ||
                !state_inhibit_source_open(txn->state, e))
                continue;
            if (chan_rule_inhibits(r, subj, &e->subject)) {
                *out = r;
                return 0;
            }
        }
    }
    return 0;
}

/* A muted event (reference/rules.md, tocsin's decisions): it updates its
 * alert, or makes one, which is marked ever_muted and gets a timeline entry
 * a_m_silence / a_m_inhibit, but joins no incident and fires no webhook.
 * An alert already in an incident keeps its severity and status there, so
 * the incident's counts stay true. */
static int alert_mute(writer_txn *txn, event_ctx *x, const state_alert *open, const chan_rule *r,
                      engine_result *out, tc_err *err) {
    tc_alert a;
    if (open) {
        if (alert_load(txn->conn, open->alert_id, &a, err) != 0)
            return -1;
        if (!a.incident_id[0]) {
            if (event_content(x, &a) < 0) {
                tc_alert_clear(&a);
                return tc_err_oom(err, "an alert");
            }
            a.severity = a.status = x->rank;
        }
        a.last_time = x->now;
        a.event_cnt++;
        memcpy(a.event_hash, x->ev->hash, sizeof(a.event_hash));
    } else if (alert_build(x, &a, err) != 0) {
        return -1;
    }
    a.ever_muted = 1;
    char *detail = detail_strings("rule_id", r->rule_id, "rule_name", r->rule_name);
    int rc = !detail ? tc_err_oom(err, "a timeline entry")
             : alert_track(txn, &a, err) != 0 ||
                     outbox_feed_only(txn, r->kind == RULE_SILENCE ? "a_m_silence" : "a_m_inhibit",
                                      "alert", a.alert_id, a.channel_id, NULL, detail, err) != 0 ||
                     alert_write(txn, &a, err) != 0 || raw_event_store(txn, x, &a, err) != 0 ||
                     state_inhibit_note(txn->state, x->ch, &a, err) != 0
                 ? -1
                 : 0;
    if (rc == 0)
        snprintf(out->alert_id, sizeof(out->alert_id), "%s", a.alert_id);
    free(detail);
    tc_alert_clear(&a);
    return rc;
}

/* Inhibit, then silence: the rule that mutes the event, or NULL. Ok events
 * are never muted (an alert already in an incident always recovers it). */
static int mute_judge(writer_txn *txn, const event_ctx *x, const chan_rule **out, tc_err *err) {
    const chan_rules *rs = &x->ch->filters;
    *out = NULL;
    if (x->ok || (rs->n[RULE_INHIBIT] == 0 && rs->n[RULE_SILENCE] == 0))
        return 0;
    rule_subject subj = event_subject(x, x->title);
    if (rs->n[RULE_INHIBIT] && inhibit_judge(txn, x, &subj, out, err) != 0)
        return -1;
    if (!*out && rs->n[RULE_SILENCE])
        *out = chan_rules_silence(rs, &subj, x->now);
    return 0;
}

static int ingest_one(writer_txn *txn, const state_source *src, const state_channel *ch,
                      engine_event *ev, engine_result *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    event_ctx x = {.src = src, .ch = ch, .ev = ev, .key = ev->alert_key, .now = txn->now_ms / 1000};
    x.time = ev->event_time > 0 && ev->event_time <= x.now ? ev->event_time : x.now;
    x.ok = strcmp(ev->event_status, "Ok") == 0;
    x.rank = model_rank_parse(ev->event_status); /* known: checked by prepare */
    snprintf(out->alert_key, sizeof(out->alert_key), "%s", x.key);
    /* Drop rules come first: a dropped event touches nothing. */
    if (ch->filters.n[RULE_DROP]) {
        rule_subject subj = event_subject(&x, ev->title);
        const chan_rule *r = chan_rules_drop(&ch->filters, &subj);
        if (r) {
            out->dropped = 1;
            out->drop_channel_id = src->channel_id;
            snprintf(out->drop_rule_id, sizeof(out->drop_rule_id), "%s", r->rule_id);
            return 0;
        }
    }
    state_alert *open = state_alert_find(txn->state, src->integration_id, x.key);
    if (open && open->incident_id[0] && !state_incident_find(txn->state, open->incident_id)) {
        if (alert_retire(txn, open, err) != 0)
            return -1;
        open = NULL; /* retired: the map no longer holds it */
    }
    /* An event without labels (an Ok that names only its key) keeps the
     * alert's labels, so its title is rendered from those. */
    char *own_title = NULL;
    x.title = ev->title;
    if (!ev->labels && open) {
        if (!(own_title = title_from_alert(txn, open, ev->title_rule, err)))
            return -1;
        x.title = own_title;
    }
    int rc = 0;
    const chan_rule *mute = NULL;
    if (open && strcmp(open->event_hash, ev->hash) == 0) {
        out->dropped = 1; /* identical to the previous event of its alert */
        snprintf(out->alert_id, sizeof(out->alert_id), "%s", open->alert_id);
    } else if ((rc = mute_judge(txn, &x, &mute, err)) != 0) {
        /* failed */
    } else if (mute && mute->discard) {
        out->dropped = 1; /* is_directly_discard: no trace at all */
    } else if (mute) {
        rc = alert_mute(txn, &x, open, mute, out, err);
    } else if (open && !open->incident_id[0] && !x.ok) {
        rc = alert_create(txn, &x, open, out, err); /* muted so far: joins now */
    } else if (open) {
        rc = alert_update(txn, &x, open, out, err);
    } else if (x.ok) {
        out->dropped = 1; /* nothing open to recover */
    } else {
        rc = alert_create(txn, &x, NULL, out, err);
    }
    free(own_title);
    return rc;
}

int engine_key_hash(const char *integration_key, char out[65]) {
    if (!integration_key || !*integration_key || strlen(integration_key) > 256)
        return -1;
    ids_sha256_hex(integration_key, strlen(integration_key), out);
    return 0;
}

int engine_ingest_many(writer_txn *txn, const char *integration_key, const char *key_hash,
                       const char *expected_type, engine_event *evs, size_t n, engine_result *out,
                       tc_err *err) {
    const state_source *src = NULL;
    const state_channel *ch = NULL;
    if (source_resolve(txn, integration_key, key_hash, expected_type, &src, &ch, err) != 0)
        return -1;
    /* Every refusal of an event comes before any change (prepare checks the
     * rest on the HTTP thread), so a failure from here on is the store's. */
    for (size_t i = 0; i < n; i++) {
        if (!evs[i].prepared && engine_event_prepare(&evs[i], err) != 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (ingest_one(txn, src, ch, &evs[i], &out[i], err) != 0)
            return -1;
    }
    return 0;
}

int engine_ingest_internal(writer_txn *txn, int64_t channel_id, engine_event *ev,
                           engine_result *out, tc_err *err) {
    const state_channel *ch = NULL;
    if (state_channel_find(txn->state, txn->conn, channel_id, &ch, err) != 0)
        return -1;
    if (!ch || strcmp(ch->status, "enabled") != 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "self_alerts_channel_id %lld names no enabled channel",
                          (long long)channel_id);
    state_source self = {.integration_id = 0, .type = "alert_standard", .channel_id = channel_id};
    if (!ev->prepared && engine_event_prepare(ev, err) != 0)
        return -1;
    return ingest_one(txn, &self, ch, ev, out, err);
}

/* ---- changes other commands reuse ------------------------------------------------ */

int engine_incident_refresh(writer_txn *txn, const char *incident_id, tc_err *err) {
    tc_incident inc;
    if (incident_load(txn->conn, incident_id, &inc, err) != 0) {
        /* removed or unknown: nothing to keep true */
        return err->code == TC_INVALID_PARAMETER ? 0 : -1;
    }
    int64_t counts[4], total, last, max_end, recovered;
    int any, rc = -1, failed = 0;
    if (incident_count_alerts(txn->conn, incident_id, counts, &total, &last, &max_end, &recovered,
                              &any, err) != 0)
        goto out;
    state_incident *e = state_incident_find(txn->state, incident_id);
    if (e) {
        if (state_incident_touch(txn->state, e, err) != 0)
            goto out;
        memcpy(e->open_by_status, counts, sizeof(counts));
    }
    inc.alert_cnt = total;
    if (total > 0) {
        int64_t active = counts[0] + counts[1] + counts[2] + counts[3];
        int top = RANK_OK;
        for (int r = 0; r < 4; r++)
            top = counts[r] ? r : top;
        inc.active_alert_cnt = active;
        inc.last_time = last;
        inc.max_alert_end = max_end;
        if (active) {
            inc.status = top;
            inc.end_time = 0;
        } else if (recovered == total) {
            /* Recovered only when every alert it holds recovered: alerts
             * closed by hand leave status and end_time as they were. */
            int64_t end = inc.end_time ? inc.end_time : txn->now_ms / 1000;
            inc.status = RANK_OK;
            inc.end_time = max_end ? max_end : end;
        }
        raise_severity(&inc, any);
    } else {
        inc.active_alert_cnt = 0;
    }
    const group_rules *rules = rules_of(txn, inc.channel_id, err, &failed);
    if (failed)
        goto out;
    int closing = total > 0 && inc.active_alert_cnt == 0 && inc.progress != PROGRESS_CLOSED &&
                  !(rules && rules->disable_auto_close);
    if (closing) {
        inc.progress = PROGRESS_CLOSED;
        inc.close_time = txn->now_ms / 1000;
        inc.snoozed_before = 0;
        inc.closer_id = 0;
        rc = close_by_event(txn, &inc, err);
    } else {
        rc = incident_save(txn, &inc, err);
    }
out:
    tc_incident_clear(&inc);
    return rc;
}

int engine_alert_close(writer_txn *txn, tc_alert *a, const tc_person *who, tc_err *err) {
    int64_t now = txn->now_ms / 1000;
    /* Closed, not recovered: status and end_time stay as they were
     * (reference/webhooks.md: end_time is the recovery time, 0 until then). */
    a->progress = PROGRESS_CLOSED;
    a->close_time = now;
    char incident_id[IDS_OBJECT_LEN + 1];
    memcpy(incident_id, a->incident_id, sizeof(incident_id));
    tc_incident inc;
    tc_incident_init(&inc);
    if (incident_id[0] && store_incidents_load(txn->conn, incident_id, 1, &inc, err) != 0)
        return -1;
    const char *title = inc.title ? inc.title : "";
    int rc = alert_track(txn, a, err) != 0 ||
                     alert_emit(txn, a, "a_close", who, "{}", title, err) != 0 ||
                     alert_write(txn, a, err) != 0
                 ? -1
                 : 0;
    tc_incident_clear(&inc);
    if (rc != 0)
        return -1;
    return incident_id[0] ? engine_incident_refresh(txn, incident_id, err) : 0;
}

int engine_alert_move(writer_txn *txn, tc_alert *a, tc_incident *target, const tc_person *who,
                      tc_err *err) {
    const state_integration *src = NULL;
    if (state_integration_find(txn->state, txn->conn, a->integration_id, &src, err) != 0)
        return -1;
    state_source as_source = {.integration_id = a->integration_id};
    if (src)
        snprintf(as_source.type, sizeof(as_source.type), "%s", src->type);
    int failed = 0;
    const group_rules *rules = rules_of(txn, target->channel_id, err, &failed);
    if (failed)
        return -1;
    if (join_fields(a, target, &as_source, txn->now_ms / 1000, err) != 0 ||
        incident_track(txn, target, err) != 0 || alert_track(txn, a, err) != 0)
        return -1;
    apply_counts(target, state_incident_find(txn->state, target->incident_id), 0,
                 txn->now_ms / 1000);
    char *detail = detail_strings("alert_id", a->alert_id, "title", a->title);
    if (!detail)
        return tc_err_oom(err, "a timeline entry");
    outbox_event merge = {.event_type = "a_merge",
                          .person = who,
                          .feed_ref = target->incident_id,
                          .detail = detail,
                          .alert = a,
                          .incident_title = target->title};
    int rc = outbox_emit(txn, &merge, NULL, err) != 0 || storm_fire(txn, target, rules, err) != 0 ||
                     alert_write(txn, a, err) != 0 || incident_write(txn, target, err) != 0
                 ? -1
                 : 0;
    free(detail);
    return rc;
}
