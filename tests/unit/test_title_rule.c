/* test_title_rule.c: $label substitution in title rules (core/title_rule.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/title_rule.h"

static void check(const char *rule, json_t *labels, const char *want) {
    char *got = title_rule_render(rule, labels);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void substitutes_names(void **state) {
    (void)state;
    json_t *l =
        json_pack("{s:s, s:s, s:s}", "service", "api", "cluster", "eu", "service_name", "billing");
    check("$service::$cluster", l, "api::eu");
    check("[$cluster] $service down", l, "[eu] api down");
    /* a name is the longest run of letters, digits and underscores */
    check("$service_name", l, "billing");
    check("$service-$cluster", l, "api-eu");
    check("$service.$cluster", l, "api.eu");
    json_decref(l);
}

static void unknown_names_stay(void **state) {
    (void)state;
    json_t *l = json_pack("{s:s}", "host", "h1");
    check("$nope on $host", l, "$nope on h1");
    check("$hostname", l, "$hostname");
    check("cost $5", l, "cost $5");
    check("100$", l, "100$");
    check("$$host", l, "$h1");
    check("$", l, "$");
    check("no labels", NULL, "no labels");
    check("$host", NULL, "$host");
    json_decref(l);
}

static void braces(void **state) {
    (void)state;
    json_t *l = json_pack("{s:s, s:s}", "app.kubernetes.io/name", "web", "a", "x");
    check("${app.kubernetes.io/name} down", l, "web down");
    check("${a}b", l, "xb");
    check("${missing}", l, "${missing}");
    check("${a", l, "${a");
    check("${}", l, "${}");
    json_decref(l);
}

static void values_are_not_expanded_again(void **state) {
    (void)state;
    json_t *l = json_pack("{s:s, s:s, s:i}", "a", "$b", "b", "B", "n", 5);
    check("$a", l, "$b");
    check("$n", l, "$n"); /* non-string values never substitute */
    json_decref(l);
}

static void result_is_cut_to_512_characters(void **state) {
    (void)state;
    char big[600];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_t *l = json_pack("{s:s}", "v", big);
    char *got = title_rule_render("\xc3\xa9$v", l);
    assert_non_null(got);
    assert_int_equal(strlen(got), 2 + 511); /* é is 2 bytes, 1 character */
    free(got);
    json_decref(l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(substitutes_names),
        cmocka_unit_test(unknown_names_stay),
        cmocka_unit_test(braces),
        cmocka_unit_test(values_are_not_expanded_again),
        cmocka_unit_test(result_is_cut_to_512_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
