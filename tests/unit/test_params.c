/* test_params.c: field validation rules (api/params.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/params.h"

static void string_cut_counts_characters(void **state) {
    (void)state;
    json_t *body = json_pack("{s:s}", "title", "\xc3\xa9\xc3\xa9\xc3\xa9x"); /* "ééé" + x */
    char *out = NULL;
    tc_err err;
    assert_int_equal(params_string(body, "title", PARAM_REQUIRED, 3, PARAM_CUT, &out, &err), 0);
    assert_string_equal(out, "\xc3\xa9\xc3\xa9\xc3\xa9");
    free(out);
    assert_int_equal(params_string(body, "title", PARAM_REQUIRED, 3, PARAM_REFUSE, &out, &err), -1);
    assert_int_equal(err.code, TC_INVALID_PARAMETER);
    assert_non_null(strstr(err.message, "title"));
    assert_non_null(strstr(err.message, "at most 3"));
    json_decref(body);
}

static void missing_and_wrong_type_name_the_field(void **state) {
    (void)state;
    json_t *body = json_pack("{s:i}", "minutes", 5);
    char *out = NULL;
    tc_err err;
    assert_int_equal(params_string(body, "reason", PARAM_REQUIRED, 0, PARAM_REFUSE, &out, &err),
                     -1);
    assert_string_equal(err.message, "reason is required");
    assert_int_equal(params_string(body, "minutes", PARAM_OPTIONAL, 0, PARAM_REFUSE, &out, &err),
                     -1);
    assert_string_equal(err.message, "minutes must be a string");
    int64_t m = 0;
    assert_int_equal(params_int64(body, "minutes", PARAM_REQUIRED, 1, 1440, &m, &err), 0);
    assert_int_equal(m, 5);
    assert_int_equal(params_int64(body, "minutes", PARAM_REQUIRED, 10, 1440, &m, &err), -1);
    assert_non_null(strstr(err.message, "minutes must be between 10 and 1440"));
    json_decref(body);
}

static void object_ids(void **state) {
    (void)state;
    json_t *body = json_pack("{s:s, s:[s,s]}", "incident_id", "65A1B2C3D4E5F60718293A4B", "ids",
                             "65a1b2c3d4e5f60718293a4b", "nothex");
    char id[25];
    tc_err err;
    assert_int_equal(params_object_id(body, "incident_id", PARAM_REQUIRED, id, &err), 0);
    assert_string_equal(id, "65a1b2c3d4e5f60718293a4b");
    json_t *arr = NULL;
    assert_int_equal(params_object_id_array(body, "ids", PARAM_REQUIRED, 1, 100, &arr, &err), -1);
    assert_non_null(strstr(err.message, "ids[1]"));
    json_decref(body);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(string_cut_counts_characters),
        cmocka_unit_test(missing_and_wrong_type_name_the_field),
        cmocka_unit_test(object_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
