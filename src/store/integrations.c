/* store/integrations.c: see store/integrations.h. */
#include "store/integrations.h"

int store_integrations_count_sources(store_conn *c, int64_t channel_id, int64_t *n, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT COUNT(*) FROM integrations WHERE channel_id = ?"
                                  " AND status <> 'deleted'"
                                  " AND type IN ('alert_standard', 'alert_prometheus')",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, channel_id);
    int step = store_step(q, err);
    *n = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    if (step == STORE_DONE)
        return tc_err_set(err, TC_INTERNAL, "counting alert sources returned no row");
    return step == STORE_ROW ? 0 : -1;
}
