/* test_state_records.c: several nodes' caches (core/state.c). A batch's
 * change records, built from one node's cache, applied to another node's
 * stale cache, must leave it with exactly the first one's entries for
 * those objects: open alerts (keys with tabs, newlines and backslashes
 * included), closed and replaced alerts, open incidents with their counts
 * and grouping keys, closed incidents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/state.h"

#define KEY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ODD_KEY "disk\tfull\\on\nhost-1"

static void open_incident(tc_state *s, const char *id, int64_t rowid, const char *keys) {
    tc_incident inc;
    memset(&inc, 0, sizeof(inc));
    snprintf(inc.incident_id, sizeof(inc.incident_id), "%s", id);
    inc.id = rowid;
    inc.channel_id = 7;
    inc.start_time = 1000 + rowid;
    inc.last_alert_time = 2000 + rowid;
    inc.group_keys = (char *)keys;
    tc_err err;
    assert_int_equal(state_incident_open(s, &inc, &err), 0);
}

static void open_alert(tc_state *s, const char *id, int64_t rowid, const char *key,
                       const char *incident_id, int status) {
    tc_alert a;
    memset(&a, 0, sizeof(a));
    snprintf(a.alert_id, sizeof(a.alert_id), "%s", id);
    snprintf(a.incident_id, sizeof(a.incident_id), "%s", incident_id);
    snprintf(a.event_hash, sizeof(a.event_hash), "%s", KEY_B);
    a.id = rowid;
    a.integration_id = 3;
    a.alert_key = (char *)key;
    a.severity = 2;
    a.status = status;
    a.progress = PROGRESS_TRIGGERED;
    tc_err err;
    assert_int_equal(state_alert_open(s, &a, &err), 0);
    state_incident *inc = state_incident_find(s, incident_id);
    if (inc)
        inc->open_by_status[status]++;
}

static void note(store_batch *b, char kind, const char *id, const char *key) {
    b->changes = realloc(b->changes, (b->nchanges + 1) * sizeof(*b->changes));
    assert_non_null(b->changes);
    store_change *c = &b->changes[b->nchanges++];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    snprintf(c->id, sizeof(c->id), "%s", id);
    c->integration_id = 3;
    c->alert_key = key ? strdup(key) : NULL;
}

static void records_carry_the_cache(void **unused) {
    (void)unused;
    tc_err err;
    tc_state *mine = NULL, *theirs = NULL;
    assert_int_equal(state_new(&mine, &err), 0);
    assert_int_equal(state_new(&theirs, &err), 0);

    /* This node, after its batch: incident i1 open with two alerts, one of
     * them a replacement of an alert closed in the same batch (a1 -> a3,
     * same key); incident i2 closed. */
    open_incident(mine, "i00000000000000000000001", 11, "[\"" KEY_A "\",\"" KEY_B "\"]");
    open_alert(mine, "a00000000000000000000002", 22, "plain", "i00000000000000000000001", 3);
    open_alert(mine, "a00000000000000000000003", 23, ODD_KEY, "i00000000000000000000001", 1);
    state_commit(mine);

    /* The other node, before: stale copies of all of them. */
    open_incident(theirs, "i00000000000000000000001", 11, "[\"" KEY_A "\"]");
    open_incident(theirs, "i00000000000000000000002", 12, "[]");
    open_alert(theirs, "a00000000000000000000001", 21, ODD_KEY, "i00000000000000000000002", 2);
    open_alert(theirs, "a00000000000000000000002", 22, "plain", "i00000000000000000000002", 2);
    state_commit(theirs);

    store_batch b;
    memset(&b, 0, sizeof(b));
    note(&b, 'a', "a00000000000000000000001", ODD_KEY); /* closed, replaced by a3 */
    note(&b, 'a', "a00000000000000000000002", "plain");
    note(&b, 'a', "a00000000000000000000003", ODD_KEY);
    note(&b, 'i', "i00000000000000000000001", NULL);
    note(&b, 'i', "i00000000000000000000002", NULL); /* closed */
    note(&b, 'c', "", NULL);
    assert_int_equal(state_change_records(mine, &b, &err), 0);
    for (size_t i = 0; i < b.nchanges; i++)
        assert_non_null(b.changes[i].record);
    assert_null(strchr(b.changes[0].record, '\n')); /* one line, whatever the key */

    assert_int_equal(state_refresh(theirs, b.changes, b.nchanges, &err), 0);

    state_alert *odd = state_alert_find(theirs, 3, ODD_KEY);
    assert_non_null(odd);
    assert_string_equal(odd->alert_id, "a00000000000000000000003");
    assert_int_equal(odd->id, 23);
    assert_int_equal(odd->status, 1);
    assert_int_equal(odd->severity, 2);
    assert_string_equal(odd->event_hash, KEY_B);
    assert_string_equal(odd->incident_id, "i00000000000000000000001");
    state_alert *plain = state_alert_find(theirs, 3, "plain");
    assert_non_null(plain);
    assert_string_equal(plain->incident_id, "i00000000000000000000001");

    state_incident *i1 = state_incident_find(theirs, "i00000000000000000000001");
    state_incident *m1 = state_incident_find(mine, "i00000000000000000000001");
    assert_non_null(i1);
    assert_int_equal(i1->id, 11);
    assert_int_equal(i1->channel_id, 7);
    assert_int_equal(i1->start_time, m1->start_time);
    assert_int_equal(i1->last_alert_time, m1->last_alert_time);
    assert_memory_equal(i1->open_by_status, m1->open_by_status, sizeof(m1->open_by_status));
    assert_int_equal(i1->ngroup_keys, 2);
    assert_string_equal(i1->group_keys[0], KEY_A);
    assert_string_equal(i1->group_keys[1], KEY_B);
    assert_null(state_incident_find(theirs, "i00000000000000000000002"));

    /* A record applied twice changes nothing more (a batch may note an
     * object twice). */
    assert_int_equal(state_refresh(theirs, b.changes, b.nchanges, &err), 0);
    assert_memory_equal(state_incident_find(theirs, "i00000000000000000000001")->open_by_status,
                        m1->open_by_status, sizeof(m1->open_by_status));

    state_commit(theirs);
    store_changes_free(b.changes, b.nchanges);
    state_free(mine);
    state_free(theirs);
}

static void malformed_record_is_an_error(void **unused) {
    (void)unused;
    tc_err err;
    tc_state *s = NULL;
    assert_int_equal(state_new(&s, &err), 0);
    store_change c;
    memset(&c, 0, sizeof(c));
    c.kind = 'a';
    c.record = "a00000000000000000000001\t1\t5";
    assert_int_not_equal(state_refresh(s, &c, 1, &err), 0);
    assert_int_equal(err.code, TC_INTERNAL);
    state_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_carry_the_cache),
        cmocka_unit_test(malformed_record_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
