/* self_alerts.c: see self_alerts.h.
 *
 * Edge-triggered, so it cannot loop. An alert is raised only when its key
 * has no open alert in the writer's cache, and recovered only when it has
 * one: each condition of an integration costs at most one alert and one
 * incident however long it lasts. When the integration in trouble is one
 * of the self-alerts channel's own webhooks, the incident's pushes to it
 * queue behind the others (disabled: pending until re-enabled; late: one
 * more pending row), which changes no condition and raises nothing new;
 * the channel's other webhooks and escalation still carry it.
 *
 * The lag check is clock work of the writer's timer tick, once per
 * SELF_ALERTS_CHECK_MS window: the first tick whose clock falls in the
 * window's first TIMERS_INTERVAL_MS, so it needs no state of its own (a
 * tick delayed past that slice skips one window). It reads the list of
 * integrations (a small table), and for each enabled webhook its oldest
 * pending delivery with a skip-scan of a covering index
 * (store_deliveries_oldest_pending): a few index probes per integration
 * whatever the backlog, never a scan of the pending rows. */
#include "core/self_alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/state.h"
#include "core/timers.h"
#include "store/deliveries.h"
#include "store/integrations.h"
#include "util/log.h"

typedef enum { COND_DISABLED, COND_LAG } self_condition;

static const char *const cond_names[] = {[COND_DISABLED] = "disabled", [COND_LAG] = "lag"};
static const char *const cond_titles[] = {
    [COND_DISABLED] = "tocsin: webhook integration $integration_name is disabled",
    [COND_LAG] = "tocsin: pushes to webhook integration $integration_name are late",
};

static void alert_key_of(int64_t integration_id, self_condition cond, char *out, size_t cap) {
    snprintf(out, cap, "tocsin/integration/%lld/%s", (long long)integration_id, cond_names[cond]);
}

/* Raises (status Critical) or recovers (Ok) the condition's alert. */
static int emit(writer_txn *txn, const tc_config *cfg, int64_t integration_id, const char *name,
                self_condition cond, const char *status, const char *reason, tc_err *err) {
    char key[96], id[24];
    alert_key_of(integration_id, cond, key, sizeof(key));
    snprintf(id, sizeof(id), "%lld", (long long)integration_id);
    engine_event ev;
    engine_event_init(&ev);
    ev.title_rule = strdup(cond_titles[cond]);
    ev.event_status = strdup(status);
    ev.alert_key = strdup(key);
    ev.description = strdup(reason);
    ev.labels = json_pack("{s:s, s:s, s:s}", "integration_id", id, "integration_name", name,
                          "reason", reason);
    engine_result out;
    int rc = 0;
    tc_err why;
    if (!ev.title_rule || !ev.event_status || !ev.alert_key || !ev.description || !ev.labels)
        rc = tc_err_oom(err, "a self-alert");
    else if (engine_ingest_internal(txn, cfg->self_alerts_channel_id, &ev, &out, &why) != 0) {
        /* A missing channel changes nothing: skipped, not failed. */
        if (why.code == TC_INVALID_PARAMETER)
            log_warn("msg=\"self-alert not raised\" alert_key=%s reason=\"%s\"", key, why.message);
        else {
            *err = why;
            rc = -1;
        }
    } else {
        log_info("msg=\"self-alert\" alert_key=%s status=%s reason=\"%s\"", key, status, reason);
    }
    engine_event_clear(&ev);
    return rc;
}

static int is_open(writer_txn *txn, int64_t integration_id, self_condition cond) {
    char key[96];
    alert_key_of(integration_id, cond, key, sizeof(key));
    return state_alert_find(txn->state, 0, key) != NULL;
}

static int name_of(writer_txn *txn, int64_t integration_id, const char **name, tc_err *err) {
    const state_integration *in = NULL;
    if (state_integration_find(txn->state, txn->conn, integration_id, &in, err) != 0)
        return -1;
    *name = in && in->name ? in->name : "";
    return 0;
}

int self_alerts_disabled(writer_txn *txn, const tc_config *cfg, int64_t integration_id,
                         const char *reason, tc_err *err) {
    const char *name = NULL;
    if (!cfg->self_alerts_channel_id || is_open(txn, integration_id, COND_DISABLED))
        return 0;
    if (name_of(txn, integration_id, &name, err) != 0)
        return -1;
    return emit(txn, cfg, integration_id, name, COND_DISABLED, "Critical", reason, err);
}

int self_alerts_delivered(writer_txn *txn, const tc_config *cfg, int64_t integration_id,
                          tc_err *err) {
    const char *name = NULL;
    if (!cfg->self_alerts_channel_id || !is_open(txn, integration_id, COND_DISABLED))
        return 0;
    if (name_of(txn, integration_id, &name, err) != 0)
        return -1;
    return emit(txn, cfg, integration_id, name, COND_DISABLED, "Ok", "delivered again", err);
}

int self_alerts_forget(writer_txn *txn, const tc_config *cfg, int64_t integration_id,
                       const char *name, tc_err *err) {
    if (!cfg->self_alerts_channel_id)
        return 0;
    for (int cond = COND_DISABLED; cond <= COND_LAG; cond++) {
        if (is_open(txn, integration_id, (self_condition)cond) &&
            emit(txn, cfg, integration_id, name, (self_condition)cond, "Ok",
                 "the integration was deleted", err) != 0)
            return -1;
    }
    return 0;
}

/* ---- the lag ------------------------------------------------------------------ */

typedef struct {
    int64_t id;
    char *name;
    int enabled;
} webhook_brief;

typedef struct {
    webhook_brief *items;
    size_t n, cap;
} webhook_list;

static void webhook_list_clear(webhook_list *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].name);
    free(l->items);
}

/* Collected first: no statement of the lag check runs while the list's
 * query is open. */
static int webhook_list_add(void *arg, const store_integration_brief *r, tc_err *err) {
    webhook_list *l = arg;
    if (strcmp(r->type, "webhook_incident") != 0 && strcmp(r->type, "webhook_alert") != 0)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        webhook_brief *grown = realloc(l->items, cap * sizeof(*grown));
        if (!grown)
            return tc_err_oom(err, "the self-alerts' integrations");
        l->items = grown;
        l->cap = cap;
    }
    webhook_brief *b = &l->items[l->n];
    b->id = r->integration_id;
    b->enabled = strcmp(r->status, "enabled") == 0;
    if (!(b->name = strdup(r->name)))
        return tc_err_oom(err, "the self-alerts' integrations");
    l->n++;
    return 0;
}

/* Raises or recovers one integration's lag alert. A disabled integration
 * has its own alert: its lag alert recovers rather than stays. */
static int check_one(writer_txn *txn, const tc_config *cfg, const webhook_brief *b, tc_err *err) {
    int open = is_open(txn, b->id, COND_LAG);
    if (!b->enabled && !open)
        return 0;
    int64_t oldest = 0;
    if (store_deliveries_oldest_pending(txn->conn, b->id, &oldest, err) != 0)
        return -1;
    int64_t age_s = oldest ? (txn->now_ms - oldest) / 1000 : 0;
    int late = b->enabled && oldest && age_s >= cfg->self_alerts_lag_s;
    char reason[160];
    if (late && !open) {
        snprintf(reason, sizeof(reason),
                 "its oldest pending delivery is %lld s old (the limit is %d s)", (long long)age_s,
                 cfg->self_alerts_lag_s);
        return emit(txn, cfg, b->id, b->name, COND_LAG, "Critical", reason, err);
    }
    if (!late && open) {
        snprintf(reason, sizeof(reason), "%s",
                 b->enabled ? "no pending delivery is late" : "disabled (alerted apart)");
        return emit(txn, cfg, b->id, b->name, COND_LAG, "Ok", reason, err);
    }
    return 0;
}

int self_alerts_check_lag(writer_txn *txn, const tc_config *cfg, tc_err *err) {
    if (!cfg->self_alerts_channel_id || txn->now_ms % SELF_ALERTS_CHECK_MS >= TIMERS_INTERVAL_MS)
        return 0;
    webhook_list l = {0};
    int rc = store_integrations_each_live(txn->conn, webhook_list_add, &l, err);
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        rc = check_one(txn, cfg, &l.items[i], err);
    webhook_list_clear(&l);
    return rc;
}
