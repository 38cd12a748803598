/* test_params_types.c: params_check_types (api/params.c), the check that
 * fields of features tocsin lacks, accepted and ignored, still have the type
 * the reference gives them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/params.h"

static const param_typed FIELDS[] = {
    {"name", PARAM_TYPE_STRING}, {"count", PARAM_TYPE_INT},         {"flag", PARAM_TYPE_BOOL},
    {"opts", PARAM_TYPE_OBJECT}, {"tags", PARAM_TYPE_STRING_ARRAY}, {"ids", PARAM_TYPE_INT_ARRAY},
    {NULL, PARAM_TYPE_STRING},
};

static void well_typed_or_absent_pass(void **state) {
    (void)state;
    json_t *body =
        json_pack("{s:s, s:I, s:b, s:{}, s:[s], s:[I], s:s}", "name", "x", "count", (json_int_t)-7,
                  "flag", 1, "opts", "tags", "a", "ids", (json_int_t)3, "not_listed", "anything");
    tc_err err;
    assert_int_equal(params_check_types(body, FIELDS, &err), 0);
    json_decref(body);
    /* Absent and null both mean "not given". */
    body = json_pack("{s:n}", "count");
    assert_int_equal(params_check_types(body, FIELDS, &err), 0);
    json_decref(body);
}

/* Each wrong value, alone in a body, fails with a message naming its field. */
static void wrong_type_names_the_field(void **state) {
    (void)state;
    struct {
        const char *json, *expect;
    } cases[] = {
        {"{\"name\": 1}", "name must be a string"},
        {"{\"count\": \"1\"}", "count must be an integer"},
        {"{\"flag\": \"true\"}", "flag must be true or false"},
        {"{\"opts\": []}", "opts must be an object"},
        {"{\"tags\": \"a\"}", "tags must be an array"},
        {"{\"tags\": [1]}", "tags[0] must be a string"},
        {"{\"ids\": [\"1\"]}", "ids[0] must be an integer"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *body = json_loads(cases[i].json, 0, NULL);
        assert_non_null(body);
        tc_err err;
        assert_int_equal(params_check_types(body, FIELDS, &err), -1);
        assert_int_equal(err.code, TC_INVALID_PARAMETER);
        assert_string_equal(err.message, cases[i].expect);
        json_decref(body);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(well_typed_or_absent_pass),
        cmocka_unit_test(wrong_type_names_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
