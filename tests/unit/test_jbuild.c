/* test_jbuild.c: the helpers that make JSON whole or not at all
 * (util/jbuild.h), read stored documents (util/doc.h) and report memory
 * that ran out (util/err.h). What they do when an allocation fails is
 * tests/unit/test_alloc_failure.c's part. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/doc.h"
#include "util/jbuild.h"
#include "util/log.h"

static void steps_flag_a_missing_value(void **state) {
    (void)state;
    int failed = 0;
    json_t *o = json_object(), *a = json_array();
    jb_set(o, "a", json_integer(1), &failed);
    jb_set_ref(o, "b", a, &failed);
    jb_append(a, json_string("x"), &failed);
    assert_false(failed);
    assert_int_equal(json_object_size(o), 2);
    /* A constructor that failed is a NULL value: flagged, nothing set. */
    jb_set(o, "c", NULL, &failed);
    assert_true(failed);
    assert_null(json_object_get(o, "c"));
    failed = 0;
    jb_append(a, NULL, &failed);
    assert_true(failed);
    failed = 0;
    jb_set_ref(o, "d", NULL, &failed);
    assert_true(failed);
    failed = 0;
    assert_null(jb_check(NULL, &failed));
    assert_true(failed);
    /* A value set into nothing is consumed all the same (no leak). */
    failed = 0;
    jb_set(NULL, "e", json_string("lost"), &failed);
    assert_true(failed);
    json_decref(a);
    json_decref(o);
}

static void done_names_what_failed(void **state) {
    (void)state;
    tc_err err;
    assert_int_equal(jb_done(0, "a list", &err), 0);
    log_set_level((log_level)(LOG_ERROR + 1));
    assert_int_equal(jb_done(1, "a list", &err), -1);
    log_set_level(LOG_INFO);
    assert_int_equal(err.code, TC_INTERNAL);
    assert_string_equal(err.message, "out of memory (a list)");
}

static void dumps_and_loads_as_jansson_does(void **state) {
    (void)state;
    const char *text = "{\"b\":[1,2.5,\"\\u00e9\"],\"a\":{\"x\":null,\"y\":true},\"k\":\"\\\"\"}";
    int oom = 1;
    json_t *v = jb_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, NULL, &oom);
    assert_non_null(v);
    assert_false(oom);
    const size_t flags[] = {JSON_COMPACT, JSON_COMPACT | JSON_SORT_KEYS, JSON_INDENT(2), 0};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        char *ours = jb_dumps(v, flags[i]), *theirs = json_dumps(v, flags[i]);
        assert_string_equal(ours, theirs);
        free(ours);
        free(theirs);
    }
    json_decref(v);
    /* Text that is not JSON is the sender's fault, not memory's. */
    json_error_t jerr;
    assert_null(jb_loadb("{\"a\":", 5, 0, &jerr, &oom));
    assert_false(oom);
    assert_null(jb_loadb("{\"a\":1,\"a\":2}", 13, JSON_REJECT_DUPLICATES, &jerr, &oom));
    assert_false(oom);
}

static void a_stored_document_that_cannot_be_read_is_an_internal_error(void **state) {
    (void)state;
    json_t *doc = NULL;
    tc_err err;
    assert_int_equal(doc_parse("{\"title\":\"t\"}", "incident", "abc", &doc, &err), 0);
    assert_string_equal(json_string_value(json_object_get(doc, "title")), "t");
    json_decref(doc);
    log_set_level((log_level)(LOG_ERROR + 1)); /* the log line it writes is expected */
    assert_int_equal(doc_parse("{\"title\":", "incident", "abc", &doc, &err), -1);
    assert_null(doc);
    assert_int_equal(err.code, TC_INTERNAL);
    assert_string_equal(err.message, "the stored incident abc cannot be read");
    assert_int_equal(doc_parse_n("", "channel", 42, &doc, &err), -1);
    assert_string_equal(err.message, "the stored channel 42 cannot be read");
    assert_int_equal(doc_parse(NULL, "alert", "x", &doc, &err), -1);
    log_set_level(LOG_INFO);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steps_flag_a_missing_value),
        cmocka_unit_test(done_names_what_failed),
        cmocka_unit_test(dumps_and_loads_as_jansson_does),
        cmocka_unit_test(a_stored_document_that_cannot_be_read_is_an_internal_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
