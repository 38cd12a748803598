/* test_deliveries_oldest.c: store_deliveries_oldest_pending, the
 * self-alerts' lag probe (store/deliveries.c), on a real SQLite store in a
 * temporary folder: the oldest pending row of one integration, whatever
 * its attempts count, ignoring finished rows and other integrations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/deliveries.h"
#include "store/store.h"

typedef struct {
    char dir[64];
    char path[96];
    store *st;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/tocsin-unit-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/tocsin.db", f->dir);
    store_options so = {.path = f->path, .readers = 1};
    tc_err err;
    if (store_open(&so, &f->st, &err) != 0) {
        fprintf(stderr, "store_open: %s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    char sidecar[128];
    store_free(f->st);
    unlink(f->path);
    snprintf(sidecar, sizeof(sidecar), "%s-wal", f->path);
    unlink(sidecar);
    snprintf(sidecar, sizeof(sidecar), "%s-shm", f->path);
    unlink(sidecar);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* A delivery row of integration, created at created_ms, with attempts and
 * status as the recorder would leave them (ids in creation order). */
static void add(store_conn *c, int64_t integration, int64_t created_ms, int attempts,
                const char *status) {
    tc_err err;
    static int64_t id;
    char sql[400];
    id++;
    snprintf(sql, sizeof(sql),
             "INSERT INTO deliveries(delivery_id, integration_id, event_seq, lane, sequence,"
             " status, attempts, next_at, created_at, updated_at)"
             " VALUES(%lld, %lld, %lld, 'lane-%lld', 1, '%s', %d, 0, %lld, %lld)",
             (long long)id, (long long)integration, (long long)id, (long long)id, status, attempts,
             (long long)created_ms, (long long)created_ms);
    assert_int_equal(store_exec(c, sql, &err), 0);
}

static void oldest_pending_across_attempts(void **state) {
    fixture *f = *state;
    store_conn *c = store_writer(f->st);
    tc_err err;
    int64_t oldest = -1;
    assert_int_equal(store_deliveries_oldest_pending(c, 7, &oldest, &err), 0);
    assert_int_equal(oldest, 0);     /* nothing pending */
    add(c, 7, 1000, 0, "delivered"); /* finished rows do not count */
    add(c, 7, 1500, 2, "failed");
    add(c, 8, 1200, 1, "pending"); /* nor other integrations' */
    assert_int_equal(store_deliveries_oldest_pending(c, 7, &oldest, &err), 0);
    assert_int_equal(oldest, 0);
    add(c, 7, 5000, 0, "pending");
    add(c, 7, 4000, 0, "pending");
    add(c, 7, 3000, 3, "pending"); /* the oldest, among retried rows */
    add(c, 7, 3500, 3, "pending");
    add(c, 7, 9000, 12, "pending");
    assert_int_equal(store_deliveries_oldest_pending(c, 7, &oldest, &err), 0);
    assert_int_equal(oldest, 3000);
    assert_int_equal(store_deliveries_oldest_pending(c, 8, &oldest, &err), 0);
    assert_int_equal(oldest, 1200);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(oldest_pending_across_attempts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
