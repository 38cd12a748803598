/* test_jw.c: the hot path's JSON writer (util/jw.c) prints exactly what
 * jansson's json_dumps(JSON_COMPACT) prints for the same members in the
 * same order, so a webhook body rendered either way is the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/jw.h"

static void assert_same_string(const char *s) {
    jw w;
    jw_init(&w);
    jw_object_begin(&w);
    jw_kstring(&w, s, s);
    jw_object_end(&w);
    char *mine = jw_take(&w, NULL);
    json_t *o = json_object();
    json_object_set_new(o, s, json_string(s));
    char *theirs = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(mine);
    assert_non_null(theirs);
    assert_string_equal(mine, theirs);
    free(mine);
    free(theirs);
}

static void every_ascii_byte_escaped_as_jansson_does(void **state) {
    (void)state;
    for (int c = 1; c < 128; c++) {
        char s[4] = {'a', (char)c, 'z', 0};
        assert_same_string(s);
    }
    assert_same_string("");
    assert_same_string("caf\u00e9 \u65e5\u672c \U0001F600 / \\ \" \u2028");
}

static void nested_members_and_numbers(void **state) {
    (void)state;
    jw w;
    jw_init(&w);
    jw_object_begin(&w);
    jw_kint(&w, "a", INT64_MIN);
    jw_kint(&w, "b", INT64_MAX);
    jw_key(&w, "c");
    jw_array_begin(&w);
    jw_int(&w, 0);
    jw_bool(&w, 1);
    jw_bool(&w, 0);
    jw_null(&w);
    jw_object_begin(&w);
    jw_object_end(&w);
    jw_array_begin(&w);
    jw_array_end(&w);
    jw_array_end(&w);
    jw_kraw(&w, "d", "{\"x\":\"y\"}", "{}");
    jw_kraw(&w, "e", NULL, "[]");
    jw_object_end(&w);
    size_t len = 0;
    char *mine = jw_take(&w, &len);
    json_t *o =
        json_pack("{s:I, s:I, s:[i, b, b, n, {}, []], s:{s:s}, s:[]}", "a", (json_int_t)INT64_MIN,
                  "b", (json_int_t)INT64_MAX, "c", 0, 1, 0, "d", "x", "y", "e");
    char *theirs = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    assert_string_equal(mine, theirs);
    assert_int_equal(len, strlen(theirs));
    free(mine);
    free(theirs);
}

static void an_unclosed_document_is_no_document(void **state) {
    (void)state;
    jw w;
    jw_init(&w);
    jw_object_begin(&w);
    jw_key(&w, "k");
    assert_null(jw_take(&w, NULL));
    jw_object_begin(&w);
    jw_object_end(&w);
    jw_object_end(&w); /* one too many */
    assert_null(jw_take(&w, NULL));
    for (int i = 0; i < JW_MAX_DEPTH + 1; i++)
        jw_array_begin(&w);
    assert_null(jw_take(&w, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_ascii_byte_escaped_as_jansson_does),
        cmocka_unit_test(nested_members_and_numbers),
        cmocka_unit_test(an_unclosed_document_is_no_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
