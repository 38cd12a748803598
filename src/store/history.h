/* store/history.h: webhook invocation history, one row per attempt: its
 * writes (delivery/history.c records every attempt and prunes old rows)
 * and what the Open API reads of it and of the outbox's pending rows:
 * /webhook/history/list and detail, /webhook/history/resend's check,
 * /integration/health. */
#ifndef TOCSIN_STORE_HISTORY_H
#define TOCSIN_STORE_HISTORY_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

/* One attempt (strings valid during the callback only). */
typedef struct {
    int64_t attempt_id, integration_id;
    const char *event_id, *webhook_type, *event_type;
    int64_t channel_id;
    const char *ref_id, *endpoint;
    int64_t attempt, duration_ms;
    const char *status; /* success | failed */
    int64_t status_code;
    const char *error_message;
    int64_t event_time; /* ms */
    const char *request_headers, *request_body, *response_headers, *response_body;
} store_history_row;

typedef int (*store_history_fn)(void *arg, const store_history_row *r, tc_err *err);

/* The filter of /webhook/history/list (event_types borrowed; NULL or
 * empty: any). */
typedef struct {
    int64_t start_time, end_time; /* the event's time, ms, inclusive */
    const char *ref_id;           /* NULL or "": any */
    int64_t integration_id;       /* 0: any */
    const char *status;           /* NULL: any */
    json_t *event_types;
    /* Order: (event_time, attempt_id); a page starts after the cursor when
     * has_cursor. */
    int asc;
    int has_cursor;
    int64_t after_time, after_attempt;
} store_history_filter;

int store_history_count(store_conn *c, const store_history_filter *f, int64_t *total, tc_err *err);
/* Calls fn for up to `limit` attempts in order; *more tells whether
 * another row follows. */
int store_history_page(store_conn *c, const store_history_filter *f, int64_t limit,
                       store_history_fn fn, void *arg, int *more, tc_err *err);

/* The newest attempt of an event to an integration; *found 0 when there
 * is none (fn not called). */
int store_history_latest(store_conn *c, const char *event_id, int64_t integration_id,
                         store_history_fn fn, void *arg, int *found, tc_err *err);

/* The title of the incident or alert (kind) an attempt was about, removed
 * or not; *title NULL when it does not exist. */
int store_history_ref_title(store_conn *c, const char *kind, const char *ref_id, char **title,
                            tc_err *err);

/* The event (events.seq) of event_id when the integration's history holds
 * an attempt of it; *seq 0 when not. */
int store_history_event_seq(store_conn *c, const char *event_id, int64_t integration_id,
                            int64_t *seq, tc_err *err);

/* How an integration's pushes are doing (/integration/health). Times ms. */
typedef struct {
    int64_t attempts, failures, last_success_at; /* since `since` */
    int64_t last_error_at, last_error_code;      /* the newest failure history keeps */
    char last_error[600];
    int64_t pending, oldest_pending_at; /* outbox rows still to deliver */
} store_history_health;

int store_history_health_read(store_conn *c, int64_t integration_id, int64_t since,
                              store_history_health *out, tc_err *err);

/* A finished attempt to record (times ms). request_body "" stands for the
 * event's own body, which the reads above then show. */
typedef struct {
    int64_t integration_id;
    const char *event_id, *webhook_type, *event_type;
    int64_t channel_id;
    const char *ref_id, *endpoint;
    int64_t attempt, duration_ms;
    const char *status; /* success | failed */
    int64_t status_code;
    const char *error_message;
    const char *request_headers, *request_body, *response_headers, *response_body;
    int64_t event_time, created_at;
    int64_t delivery_id; /* 0 outside the outbox */
    int64_t sequence;
} store_history_new;

int store_history_insert(store_conn *c, const store_history_new *h, tc_err *err);

/* Deletes up to `limit` attempts recorded before before_ms, oldest first. */
int store_history_prune(store_conn *c, int64_t before_ms, int64_t limit, tc_err *err);

#endif
