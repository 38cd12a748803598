/* timers.c: see timers.h. */
#include "core/timers.h"

#include "core/app.h"
#include "core/cluster.h"
#include "core/escalation.h"
#include "core/incident.h"
#include "delivery/history.h"
#include "delivery/replay.h"
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

int timers_tick(writer_txn *txn, void *arg, tc_err *err) {
    tc_app *app = arg;
    int held = timers_lease_held(txn, app, err);
    if (held <= 0)
        return held;
    if (incident_wake_expired(txn, err) != 0 || escalation_run_due(txn, err) != 0 ||
        replay_step(txn, err) != 0)
        return -1;
    /* An index probe on created_at when there is nothing to delete. */
    if (app->cluster && cluster_is_shared(app->cluster) &&
        store_cluster_changes_prune(txn->conn, CHANGES_KEEP_MS, err) != 0)
        return -1;
    /* A few hundred rows a tick keeps a long backlog from making one huge
     * transaction; an idle tick is one index probe per table. */
    return history_prune(txn, 500, err);
}
