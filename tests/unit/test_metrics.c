/* test_metrics.c: the registry and its Prometheus text rendering
 * (util/metrics.c): escaping of label values and HELP text, number
 * formatting, cumulative histogram buckets, the per-(path, code) and
 * per-integration tables, and NULL-safety. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/metrics.h"

/* The text of one whole line of t that starts with prefix, or NULL. */
static const char *line_starting(const metrics_text *t, const char *prefix) {
    size_t n = strlen(prefix);
    for (const char *p = t->buf; p && *p;) {
        if (strncmp(p, prefix, n) == 0)
            return p;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return NULL;
}

static void assert_has_line(const metrics_text *t, const char *line) {
    size_t n = strlen(line);
    const char *p = line_starting(t, line);
    if (!p || (p[n] != '\n' && p[n] != '\0'))
        fail_msg("no line '%s' in:\n%s", line, t->buf ? t->buf : "");
}

static void label_values_are_escaped(void **state) {
    (void)state;
    metrics_text t;
    metrics_text_init(&t);
    metrics_label l[] = {{"name", "a\\b \"q\"\nnext"}, {"type", "plain"}};
    metrics_text_sample(&t, "x_total", l, 2, 3);
    assert_false(t.oom);
    assert_string_equal(t.buf, "x_total{name=\"a\\\\b \\\"q\\\"\\nnext\",type=\"plain\"} 3\n");
    metrics_text_clear(&t);
}

static void help_is_escaped_but_quotes_are_kept(void **state) {
    (void)state;
    metrics_text t;
    metrics_text_init(&t);
    metrics_text_family(&t, "y", "gauge", "say \"hi\"\\ twice\nplease");
    assert_string_equal(t.buf, "# HELP y say \"hi\"\\\\ twice\\nplease\n# TYPE y gauge\n");
    metrics_text_clear(&t);
}

static void numbers(void **state) {
    (void)state;
    metrics_text t;
    metrics_text_init(&t);
    metrics_text_sample(&t, "a", NULL, 0, 0);
    metrics_text_sample(&t, "b", NULL, 0, 12345678901.0);
    metrics_text_sample(&t, "c", NULL, 0, 0.1);
    metrics_text_sample(&t, "d", NULL, 0, INFINITY);
    metrics_text_sample(&t, "e", NULL, 0, 2.5e-7);
    assert_string_equal(t.buf, "a 0\nb 12345678901\nc 0.1\nd +Inf\ne 2.5e-07\n");
    metrics_text_clear(&t);
}

static void histogram_buckets_are_cumulative(void **state) {
    (void)state;
    metrics_text t;
    metrics_text_init(&t);
    const double bounds[] = {0.5, 1};
    const uint64_t counts[] = {2, 0, 3};
    metrics_label l[] = {{"k", "v"}};
    metrics_text_histogram(&t, "h_seconds", l, 1, bounds, 2, counts, 7.25);
    assert_string_equal(t.buf, "h_seconds_bucket{k=\"v\",le=\"0.5\"} 2\n"
                               "h_seconds_bucket{k=\"v\",le=\"1\"} 2\n"
                               "h_seconds_bucket{k=\"v\",le=\"+Inf\"} 5\n"
                               "h_seconds_sum{k=\"v\"} 7.25\n"
                               "h_seconds_count{k=\"v\"} 5\n");
    metrics_text_clear(&t);
    metrics_text_init(&t);
    metrics_text_histogram(&t, "u", NULL, 0, bounds, 2, counts, 0);
    assert_has_line(&t, "u_bucket{le=\"+Inf\"} 5");
    assert_has_line(&t, "u_count 5");
    metrics_text_clear(&t);
}

static void registry_counts_and_renders(void **state) {
    (void)state;
    metrics *m = metrics_new();
    assert_non_null(m);
    metrics_events_ingested(m, METRICS_SOURCE_STANDARD, METRICS_INGEST_ACCEPTED, 1);
    metrics_events_ingested(m, METRICS_SOURCE_STANDARD, METRICS_INGEST_ACCEPTED, 1);
    metrics_events_ingested(m, METRICS_SOURCE_PROMETHEUS, METRICS_INGEST_REFUSED, 3);
    metrics_http_request(m, "/channel/list", 200, 0.0004);
    metrics_http_request(m, "/channel/list", 200, 0.02);
    metrics_http_request(m, "/channel/list", 400, 0.02);
    metrics_http_request(m, "other", 404, 2);
    metrics_delivery_attempt(m, 7, METRICS_ATTEMPT_RETRY);
    metrics_delivery_attempt(m, 7, METRICS_ATTEMPT_DELIVERED);
    metrics_delivery_delivered(m, 7, 0.003);
    metrics_delivery_attempt(m, 3, METRICS_ATTEMPT_FAILED);
    metrics_delivery_failed(m, 3);
    metrics_delivery_attempt(m, 99, METRICS_ATTEMPT_DELIVERED); /* not in the store: not shown */

    metrics_integration ins[] = {
        {.integration_id = 3, .name = "three", .type = "webhook_alert", .enabled = 0, .pushes = 1},
        {.integration_id = 5, .name = "src", .type = "alert_standard", .enabled = 1},
        {.integration_id = 7,
         .name = "se\"ven",
         .type = "webhook_incident",
         .enabled = 1,
         .pushes = 1,
         .pending = 4,
         .retries_pending = 1},
    };
    metrics_store_state st = {
        .outbox_pending = 4, .outbox_oldest_age_s = 1.5, .integrations = ins, .nintegrations = 3};
    metrics_text t;
    metrics_text_init(&t);
    assert_int_equal(metrics_render(m, &st, &t), 0);
    assert_has_line(&t, "tocsin_events_ingested_total{source=\"standard\",outcome=\"accepted\"} 2");
    assert_has_line(&t,
                    "tocsin_events_ingested_total{source=\"prometheus\",outcome=\"refused\"} 3");
    assert_has_line(&t, "tocsin_events_ingested_total{source=\"prometheus\",outcome=\"error\"} 0");
    assert_has_line(&t, "tocsin_http_requests_total{path=\"/channel/list\",code=\"200\"} 2");
    assert_has_line(&t, "tocsin_http_requests_total{path=\"/channel/list\",code=\"400\"} 1");
    assert_has_line(&t, "tocsin_http_requests_total{path=\"other\",code=\"404\"} 1");
    assert_has_line(&t, "tocsin_http_request_duration_seconds_bucket{le=\"0.001\"} 1");
    assert_has_line(&t, "tocsin_http_request_duration_seconds_bucket{le=\"0.025\"} 3");
    assert_has_line(&t, "tocsin_http_request_duration_seconds_count 4");
    assert_has_line(&t, "tocsin_outbox_pending 4");
    assert_has_line(&t, "tocsin_outbox_oldest_pending_age_seconds 1.5");
    const char *seven = "integration_id=\"7\",name=\"se\\\"ven\",type=\"webhook_incident\"";
    char line[512];
    snprintf(line, sizeof(line), "tocsin_delivery_attempts_total{%s,outcome=\"retry\"} 1", seven);
    assert_has_line(&t, line);
    snprintf(line, sizeof(line), "tocsin_deliveries_total{%s} 1", seven);
    assert_has_line(&t, line);
    snprintf(line, sizeof(line), "tocsin_delivery_latency_seconds_bucket{%s,le=\"0.0025\"} 0",
             seven);
    assert_has_line(&t, line);
    snprintf(line, sizeof(line), "tocsin_delivery_latency_seconds_bucket{%s,le=\"0.005\"} 1",
             seven);
    assert_has_line(&t, line);
    snprintf(line, sizeof(line), "tocsin_delivery_latency_seconds_count{%s} 1", seven);
    assert_has_line(&t, line);
    snprintf(line, sizeof(line), "tocsin_delivery_pending{%s} 4", seven);
    assert_has_line(&t, line);
    snprintf(line, sizeof(line), "tocsin_delivery_retries_pending{%s} 1", seven);
    assert_has_line(&t, line);
    assert_has_line(&t, "tocsin_deliveries_failed_total{integration_id=\"3\",name=\"three\","
                        "type=\"webhook_alert\"} 1");
    assert_has_line(&t, "tocsin_integration_enabled{integration_id=\"3\",name=\"three\","
                        "type=\"webhook_alert\"} 0");
    /* An alert source: enabled gauge only, no delivery series. */
    assert_has_line(&t, "tocsin_integration_enabled{integration_id=\"5\",name=\"src\","
                        "type=\"alert_standard\"} 1");
    assert_null(line_starting(&t, "tocsin_deliveries_total{integration_id=\"5\""));
    assert_null(strstr(t.buf, "integration_id=\"99\""));
    /* Every family once, with HELP before TYPE. */
    assert_non_null(line_starting(&t, "# HELP tocsin_delivery_latency_seconds "));
    assert_has_line(&t, "# TYPE tocsin_delivery_latency_seconds histogram");
    metrics_text_clear(&t);
    metrics_free(m);
}

static void null_registry_is_safe(void **state) {
    (void)state;
    metrics_events_ingested(NULL, METRICS_SOURCE_STANDARD, METRICS_INGEST_ACCEPTED, 1);
    metrics_http_request(NULL, "/x", 200, 0);
    metrics_delivery_attempt(NULL, 1, METRICS_ATTEMPT_GONE);
    metrics_delivery_delivered(NULL, 1, 0.1);
    metrics_delivery_failed(NULL, 1);
    metrics_free(NULL);
    metrics_text t;
    metrics_text_init(&t);
    assert_int_equal(metrics_render(NULL, NULL, &t), -1);
    metrics_text_clear(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_values_are_escaped),
        cmocka_unit_test(help_is_escaped_but_quotes_are_kept),
        cmocka_unit_test(numbers),
        cmocka_unit_test(histogram_buckets_are_cumulative),
        cmocka_unit_test(registry_counts_and_renders),
        cmocka_unit_test(null_registry_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
