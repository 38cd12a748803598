/* push.h: one HTTP attempt of a push: built, sent, read.
 *
 * push_attempt_prepare builds the request of reference/webhooks.md for one
 * event and one target: POST to the endpoint exactly as configured (query
 * string kept), Content-Type: application/json, the custom headers, the
 * body (the default body, or the integration's template rendered against
 * it), and tocsin's additive headers: webhook-id (the event_id),
 * webhook-timestamp, webhook-signature (both secrets during a rotation)
 * and tocsin-sequence. It then sets up a libcurl easy handle with the
 * target's policy: the whole response within timeout_ms, no redirects
 * followed, TLS verification as configured, http/https only, the address
 * guard at connect time and the egress address.
 *
 * The dispatcher drives many attempts through one curl multi handle; the
 * synchronous calls (custom actions, /integration/test, resend) use
 * push_attempt_perform. Either way push_attempt_finish reads the outcome. */
#ifndef TOCSIN_PUSH_H
#define TOCSIN_PUSH_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "delivery/guard.h"
#include "delivery/retry.h"
#include "delivery/target.h"

#define PUSH_CAPTURE_MAX (64 * 1024) /* response headers and body kept for history */

typedef struct {
    const guard *g;             /* NULL: no address check */
    const char *egress_address; /* NULL: the system's choice */
} push_network;

typedef struct {
    CURL *easy;
    /* request */
    char *body;
    /* 1: the body is the stored event's body as it is (the dispatcher, no
     * template): history keeps it once, in the event, not per attempt. */
    int body_is_event;
    struct curl_slist *headers;
    char *headers_text; /* as recorded in history: sensitive values masked */
    size_t headers_text_len;
    /* response */
    long status; /* 0: no response */
    char *resp_headers;
    size_t resp_headers_len;
    char *resp_body;
    size_t resp_body_len;
    int64_t retry_after_s; /* -1: none */
    char error[512];       /* transport error or guard refusal; "" on a response */
    /* Some byte of the request went out (CURLINFO_REQUEST_SIZE > 0): the
     * endpoint may have acted on it even without answering. */
    int request_sent;
    int64_t started_ms, duration_ms;
    outcome_kind outcome;
    guard_check guard;
    char curl_error[CURL_ERROR_SIZE];
    void *owner; /* the dispatcher's per-transfer context */
} push_attempt;

void push_attempt_init(push_attempt *a);
void push_attempt_clear(push_attempt *a);

/* default_body: the stored event body; the template, if any, renders from
 * it. timestamp_s: webhook-timestamp. */
int push_attempt_prepare(push_attempt *a, const push_target *t, const push_network *net,
                         const char *event_id, int64_t sequence, const char *default_body,
                         int64_t timestamp_s, tc_err *err);

/* push_attempt_prepare on an easy handle kept from an earlier attempt
 * (reset first; NULL makes a new one). The attempt owns it either way,
 * also when preparing fails. */
int push_attempt_prepare_reusing(push_attempt *a, CURL *reuse, const push_target *t,
                                 const push_network *net, const char *event_id, int64_t sequence,
                                 const char *default_body, int64_t timestamp_s, tc_err *err);

/* After the transfer ended with rc: status, error, duration, retry_after,
 * outcome. */
void push_attempt_finish(push_attempt *a, CURLcode rc, int64_t now_s);

/* Blocking send of a prepared attempt, then push_attempt_finish. */
void push_attempt_perform(push_attempt *a, int64_t now_s);

/* A header value is shown as "***" in history when its name suggests a
 * credential (authorization, token, key, secret, password, cookie). */
int push_header_is_sensitive(const char *name);

#endif
