/* api.h: what an API handler is, and the route tables the server serves.
 *
 * Every API call is POST + JSON (reference/event-api.md). The HTTP layer
 * (http/server.c) reads and size-checks the body, parses it, authenticates
 * the caller, and calls the route's handler with the parsed object. A
 * handler validates its fields (api/params.h), reads through a reader
 * connection or changes state through writer_run(), and returns `data`
 * for the success envelope, or -1 with *err for the failure envelope.
 *
 * One file per API family defines a route table; http/routes.c lists the
 * tables. Paths are unique across all tables. */
#ifndef TOCSIN_API_H
#define TOCSIN_API_H

#include <jansson.h>

#include "core/app.h"
#include "core/events.h"
#include "util/err.h"

typedef enum {
    API_AUTH_NONE,
    API_AUTH_APP_KEY,         /* ?app_key= names a person; ctx->person is set */
    API_AUTH_INTEGRATION_KEY, /* ?integration_key= is passed through to the handler */
} api_auth;

typedef struct {
    tc_app *app;
    const char *request_id;
    const char *integration_key; /* API_AUTH_INTEGRATION_KEY routes; may be NULL */
    tc_person person;            /* API_AUTH_APP_KEY routes */
    int is_admin;
} api_ctx;

/* body is a JSON object (never NULL); *data receives a new reference, which
 * must be a JSON object (use json_object() for an empty `data`, and check
 * it: a success without data is answered InternalError, never `{}`). */
typedef int (*api_handler)(api_ctx *ctx, json_t *body, json_t **data, tc_err *err);

/* A call whose change goes to the writer without a thread waiting for it
 * (the Event API, tocsin's hot path). `start` validates and prepares; the
 * HTTP front suspends the connection, submits op->job (setting its `done`)
 * and, once the job is done, calls `finish` on an HTTP thread for the
 * answer, then `release`. */
typedef struct api_op api_op;
struct api_op {
    writer_job job; /* fn, arg, flags set by start */
    int (*finish)(api_op *op, json_t **data, tc_err *err);
    void (*release)(api_op *op);
};

/* Returns -1 with *err, or 0 with *op to submit, or 0 with *data when it
 * answered without the writer. */
typedef int (*api_start)(api_ctx *ctx, json_t *body, api_op **op, json_t **data, tc_err *err);

typedef struct {
    const char *path;
    api_handler handler; /* the whole call, blocking */
    api_auth auth;
} api_route;

/* The routes that also have a start (the same call, no thread waiting);
 * the HTTP front uses it, harnesses that call handlers use `handler`. */
typedef struct {
    const char *path;
    api_start start;
} api_async_route;

/* The last step of a handler: *data = answer when it was built, else
 * InternalError naming `what` (answer NULL: building it ran out of memory).
 * Returns 0 or -1, what the handler returns. */
int api_answer(json_t *answer, const char *what, json_t **data, tc_err *err);

/* Runs a writer command whose answer is `{}`. The answer is made before the
 * command, so that once the change is committed nothing is left to fail:
 * an InternalError never stands for a change that was in fact made. */
int api_run_empty(api_ctx *ctx, writer_fn fn, void *arg, json_t **data, tc_err *err);

/* Route tables, each ended by an entry whose path is NULL. */
extern const api_route api_event_routes[];              /* api/events.c */
extern const api_async_route api_event_async_routes[];  /* api/events.c */
extern const api_route api_incident_routes[];           /* api/incidents.c */
extern const api_route api_alert_routes[];              /* api/alerts.c */
extern const api_route api_channel_routes[];            /* api/channels.c */
extern const api_route api_channel_rule_routes[];       /* api/channel_rules.c */
extern const api_route api_escalate_rule_routes[];      /* api/escalate_rules.c */
extern const api_route api_member_routes[];             /* api/members.c */
extern const api_route api_integration_routes[];        /* api/integrations.c */
extern const api_route api_history_routes[];            /* api/history.c */
extern const api_route api_delivery_routes[];           /* api/delivery.c */
extern const api_route api_integration_health_routes[]; /* api/integration_health.c */
extern const api_route api_replay_routes[];             /* api/replay.c */
extern const api_route api_change_routes[];             /* api/changes.c */

#endif
