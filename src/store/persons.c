/* store/persons.c: see store/persons.h. */
#include "store/persons.h"

#include <stdio.h>

int store_persons_get(store_conn *c, int64_t person_id, tc_person *out, tc_err *err) {
    store_stmt *q = store_prepare(
        c, "SELECT person_name, email FROM persons WHERE person_id = ? AND status <> 'deleted'",
        err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, person_id);
    int step = store_step(q, err);
    if (step == STORE_ROW) {
        out->person_id = person_id;
        snprintf(out->person_name, sizeof(out->person_name), "%s", store_col_text(q, 0));
        snprintf(out->email, sizeof(out->email), "%s", store_col_text(q, 1));
    }
    store_stmt_done(q);
    return step < 0 ? -1 : step == STORE_ROW;
}
