/* test_err.c: error messages always fit the JSON envelope (util/err.c):
 * whatever text a message quotes, and wherever the 512-byte cut falls, it
 * is valid UTF-8. The fuzz targets (fuzz/) found messages that were not,
 * which the server then could not send at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/err.h"

static void assert_utf8(const char *s) {
    json_t *v = json_string(s); /* NULL unless valid UTF-8 */
    assert_non_null(v);
    json_decref(v);
}

static void broken_characters_become_question_marks(void **state) {
    (void)state;
    tc_err err;
    /* A lead byte cut from its character (jansson's "invalid escape near"
     * text), a stray continuation byte, an overlong form, a surrogate. */
    tc_err_set(&err, TC_INVALID_PARAMETER, "near '%s'", "\"\\u14e\xc7");
    assert_string_equal(err.message, "near '\"\\u14e?'");
    tc_err_set(&err, TC_INVALID_PARAMETER, "%s|%s|%s",
               "a\x80"
               "b",
               "\xc0\xaf", "\xed\xa0\x80");
    assert_string_equal(err.message, "a?b|??|???");
    assert_utf8(err.message);
}

static void whole_characters_are_kept(void **state) {
    (void)state;
    tc_err err;
    tc_err_set(&err, TC_INVALID_PARAMETER, "%s", "caf\u00e9 \u65e5\u672c \U0001F600");
    assert_string_equal(err.message, "caf\u00e9 \u65e5\u672c \U0001F600");
    assert_int_equal(err.code, TC_INVALID_PARAMETER);
}

static void the_cut_never_leaves_half_a_character(void **state) {
    (void)state;
    char big[1200] = "x";
    for (int i = 0; i < 300; i++)
        strcat(big, "\u65e5"); /* 3 bytes: byte 511 falls inside one */
    for (int shift = 0; shift < 3; shift++) {
        tc_err err;
        tc_err_set(&err, TC_INVALID_PARAMETER, "%.*s%s", shift, "ab", big);
        assert_true(strlen(err.message) == sizeof(err.message) - 1);
        assert_utf8(err.message);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(broken_characters_become_question_marks),
        cmocka_unit_test(whole_characters_are_kept),
        cmocka_unit_test(the_cut_never_leaves_half_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
