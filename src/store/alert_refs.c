/* store/alert_refs.c: see store/alert_refs.h. */
#include "store/alert_refs.h"

#include <stdlib.h>
#include <string.h>

void store_alert_refs_clear(store_alert_refs *r) {
    free(r->integration_name);
    free(r->integration_type);
    free(r->channel_name);
    free(r->channel_status);
    free(r->incident_title);
    free(r->incident_progress);
    free(r->incident_responders);
    memset(r, 0, sizeof(*r));
}

/* Copies column col of q into *out; -1 when out of memory (flagged). */
static void copy_col(store_stmt *q, int col, char **out, int *failed) {
    if (!(*out = strdup(store_col_text(q, col))))
        *failed = 1;
}

/* Runs q (bound by the caller) for at most one row and copies its n
 * columns into outs[]. */
static int read_one(store_stmt *q, char **outs[], int n, tc_err *err) {
    int step = store_step(q, err), failed = 0;
    if (step == STORE_ROW)
        for (int i = 0; i < n; i++)
            copy_col(q, i, outs[i], &failed);
    store_stmt_done(q);
    if (step < 0)
        return -1;
    return failed ? tc_err_oom(err, "what an alert points at") : 0;
}

int store_alert_refs_load(store_conn *c, int64_t integration_id, int64_t channel_id,
                          const char *incident_id, store_alert_refs *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    store_stmt *q =
        store_prepare(c, "SELECT name, type FROM integrations WHERE integration_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, integration_id);
    char **integration[] = {&out->integration_name, &out->integration_type};
    if (read_one(q, integration, 2, err) != 0)
        goto fail;
    q = store_prepare(c, "SELECT channel_name, status FROM channels WHERE channel_id = ?", err);
    if (!q)
        goto fail;
    store_bind_int64(q, 1, channel_id);
    char **channel[] = {&out->channel_name, &out->channel_status};
    if (read_one(q, channel, 2, err) != 0)
        goto fail;
    if (incident_id && incident_id[0]) {
        q = store_prepare(c,
                          "SELECT title, progress, responders FROM incidents"
                          " WHERE incident_id = ?",
                          err);
        if (!q)
            goto fail;
        store_bind_text(q, 1, incident_id);
        char **incident[] = {&out->incident_title, &out->incident_progress,
                             &out->incident_responders};
        if (read_one(q, incident, 3, err) != 0)
            goto fail;
    }
    return 0;
fail:
    store_alert_refs_clear(out);
    return -1;
}

int store_alert_refs_channel_name(store_conn *c, int64_t channel_id, char **name, tc_err *err) {
    *name = NULL;
    store_stmt *q = store_prepare(c, "SELECT channel_name FROM channels WHERE channel_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, channel_id);
    char **outs[] = {name};
    if (read_one(q, outs, 1, err) != 0) {
        free(*name);
        *name = NULL;
        return -1;
    }
    return 0;
}
