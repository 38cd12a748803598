/* integration_health.c: POST /integration/health, how a pushing integration
 * is doing, for the console's integration page (issue 5, item 4). tocsin's
 * own call, like the other /integration/ calls (reference/integrations.md).
 *
 *   request:  {"integration_id": 3}
 *   response: {"integration_id", "window_ms", "attempts", "failures",
 *              "success_rate", "last_success_at", "last_error",
 *              "last_error_at", "pending", "lag_ms", "enabled", "status",
 *              "disabled_reason"}
 *
 * attempts and failures count the invocation history (one row per attempt)
 * of the last 24 hours; success_rate is (attempts - failures) / attempts,
 * 1 when there was no attempt (nothing failed). last_error is the newest
 * failed attempt kept in history (7 days): its error text, else its HTTP
 * status. pending counts the outbox rows still to deliver, and lag_ms is
 * the age of the oldest of them: how far the receiver is behind. Times are
 * milliseconds.
 *
 * Read-only, through one reader connection; any key may read it, like
 * /integration/info. Alert sources do not push: they are refused. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/params.h"
#include "core/integration.h"
#include "store/history.h"
#include "util/clock.h"

#define HEALTH_WINDOW_MS (24LL * 3600 * 1000)

static json_t *health_json(const integration *in, const store_history_health *h, int64_t now) {
    /* A failure without an error text says its HTTP status. */
    char last_error[sizeof(h->last_error)];
    snprintf(last_error, sizeof(last_error), "%s", h->last_error);
    if (!last_error[0] && h->last_error_code)
        snprintf(last_error, sizeof(last_error), "HTTP %lld", (long long)h->last_error_code);
    double rate = h->attempts ? (double)(h->attempts - h->failures) / (double)h->attempts : 1.0;
    int64_t lag = h->pending && h->oldest_pending_at ? now - h->oldest_pending_at : 0;
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:f, s:I, s:s, s:I, s:I, s:I, s:b, s:s, s:s}", "integration_id",
        (json_int_t)in->integration_id, "window_ms", (json_int_t)HEALTH_WINDOW_MS, "attempts",
        (json_int_t)h->attempts, "failures", (json_int_t)h->failures, "success_rate", rate,
        "last_success_at", (json_int_t)h->last_success_at, "last_error", last_error,
        "last_error_at", (json_int_t)h->last_error_at, "pending", (json_int_t)h->pending, "lag_ms",
        (json_int_t)(lag > 0 ? lag : 0), "enabled", strcmp(in->status, "enabled") == 0, "status",
        in->status, "disabled_reason", in->disabled_reason ? in->disabled_reason : "");
}

static int integration_health(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    int64_t id = 0;
    if (params_int64(body, "integration_id", PARAM_REQUIRED, 1, INT64_MAX, &id, err) != 0)
        return -1;
    integration in;
    integration_init(&in);
    store_history_health h;
    int64_t now = clock_now_ms();
    int rc = -1;
    store_conn *c = store_reader_acquire(ctx->app->st);
    if (integration_load(c, id, &in, err) != 0)
        goto out;
    if (!integration_is_pushing(in.type)) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "integration_id %lld is an alert source (%s): only webhooks and custom "
                   "actions push, and have a delivery health",
                   (long long)id, in.type);
        goto out;
    }
    if (store_history_health_read(c, id, now - HEALTH_WINDOW_MS, &h, err) != 0)
        goto out;
    rc = api_answer(health_json(&in, &h, now), "an integration's health", data, err);
out:
    store_reader_release(ctx->app->st, c);
    integration_clear(&in);
    return rc;
}

const api_route api_integration_health_routes[] = {
    {"/integration/health", integration_health, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
