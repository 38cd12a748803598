/* timers.c: see timers.h. */
#include "core/timers.h"

#include "core/app.h"
#include "core/incident.h"

int timers_tick(writer_txn *txn, void *arg, tc_err *err) {
    (void)arg;
    return incident_wake_expired(txn, err);
}
