/* timers.c: see timers.h. */
#include "core/timers.h"

#include <stdio.h>

#include "core/app.h"
#include "core/cluster.h"
#include "core/escalation.h"
#include "core/incident.h"
#include "core/self_alerts.h"
#include "delivery/history.h"
#include "delivery/replay.h"
#include "core/state.h"
#include "store/channel_rules.h"
#include "store/cluster.h"

/* cluster_changes older than this are deleted: a node that wrote nothing
 * for longer reads its whole cache again at its next batch. */
#define CHANGES_KEEP_MS (10 * 60 * 1000)

/* With several nodes, only the holder of the timers lease runs them, and
 * it checks the lease again inside this batch: a node whose lease was
 * taken over while it waited for the clock's lock does nothing, so each
 * timer's work is done once. */
static int timers_lease_held(writer_txn *txn, const tc_app *app, tc_err *err) {
    int64_t epoch = 0;
    if (!app->cluster)
        return 1;
    if (!cluster_timers_held(app->cluster, &epoch))
        return 0;
    if (!cluster_is_shared(app->cluster))
        return 1;
    int held = 0;
    if (store_cluster_lease_held(txn->conn, "timers", cluster_node_id(app->cluster), epoch, &held,
                                 err) != 0)
        return -1;
    return held;
}

/* Quick silences whose window has ended are deleted (reference/rules.md,
 * "Quick silence"); a few a tick. */
#define EXPIRED_RULES_PER_TICK 50

typedef struct {
    char ids[EXPIRED_RULES_PER_TICK][IDS_OBJECT_LEN + 1];
    int n;
} expired_rules;

static int note_expired(void *arg, const store_channel_rule *r, tc_err *err) {
    (void)err;
    expired_rules *x = arg;
    if (x->n < EXPIRED_RULES_PER_TICK)
        snprintf(x->ids[x->n++], IDS_OBJECT_LEN + 1, "%s", r->rule_id);
    return 0;
}

/* Read first, then delete: no statement runs while the query is open. */
static int quick_silences_expire(writer_txn *txn, tc_err *err) {
    expired_rules x = {.n = 0};
    int64_t now = txn->now_ms / 1000;
    if (store_channel_rules_each_expired(txn->conn, now, EXPIRED_RULES_PER_TICK, note_expired, &x,
                                         err) != 0)
        return -1;
    if (x.n == 0)
        return 0;
    if (txn->state)
        state_config_changed(txn->state);
    store_batch_note(txn->conn, 'c', "");
    for (int i = 0; i < x.n; i++) {
        if (store_channel_rules_delete(txn->conn, x.ids[i], 0, now, err) != 0)
            return -1;
    }
    return 0;
}

int timers_tick(writer_txn *txn, void *arg, tc_err *err) {
    tc_app *app = arg;
    int held = timers_lease_held(txn, app, err);
    if (held <= 0)
        return held;
    if (incident_wake_expired(txn, err) != 0 || escalation_run_due(txn, err) != 0 ||
        replay_step(txn, err) != 0 || self_alerts_check_lag(txn, app->cfg, err) != 0 ||
        quick_silences_expire(txn, err) != 0)
        return -1;
    /* An index probe on created_at when there is nothing to delete. */
    if (app->cluster && cluster_is_shared(app->cluster) &&
        store_cluster_changes_prune(txn->conn, CHANGES_KEEP_MS, err) != 0)
        return -1;
    /* A few hundred rows a tick keeps a long backlog from making one huge
     * transaction; an idle tick is one index probe per table. */
    return history_prune(txn, 500, err);
}
