/* timers.c: see timers.h. */
#include "core/timers.h"

#include "core/app.h"
#include "core/incident.h"
#include "delivery/history.h"
#include "delivery/replay.h"

int timers_tick(writer_txn *txn, void *arg, tc_err *err) {
    (void)arg;
    if (incident_wake_expired(txn, err) != 0 || replay_step(txn, err) != 0)
        return -1;
    /* A few hundred rows a tick keeps a long backlog from making one huge
     * transaction; an idle tick is one index probe per table. */
    return history_prune(txn, 500, err);
}
