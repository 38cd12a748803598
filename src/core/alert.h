/* alert.h: an alert's life inside a writer command: load, change,
 * announce, save, with the writer's cache (core/state.h) kept true.
 *
 * Saving is split as for incidents (core/incident.h): alert_track updates
 * the map of open alerts and the open-alert counts of the incidents it
 * leaves and joins, events are emitted (they number the alert's lanes),
 * then alert_write stores the row. */
#ifndef TOCSIN_ALERT_H
#define TOCSIN_ALERT_H

#include "core/events.h"
#include "core/model.h"
#include "core/writer.h"

/* InvalidParameter "alert_id X does not exist" when absent. */
int alert_load(store_conn *c, const char *alert_id, tc_alert *out, tc_err *err);

/* The cache half of a save. */
int alert_track(writer_txn *txn, const tc_alert *a, tc_err *err);
/* The store half: inserts (id 0) or updates the row; sets updated_at. */
int alert_write(writer_txn *txn, tc_alert *a, tc_err *err);
/* Both. */
int alert_save(writer_txn *txn, tc_alert *a, tc_err *err);

/* Emits the domain event `type` (a_*) with the alert as it is; the
 * timeline entry only when detail is given (JSON text). incident_title is
 * its incident's current title ("" or NULL when none). */
int alert_emit(writer_txn *txn, tc_alert *a, const char *type, const tc_person *who,
               const char *detail, const char *incident_title, tc_err *err);

#endif
