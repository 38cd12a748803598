/* store/integrations.h: the integrations table and the subscriptions of
 * the pushing kinds, as the integration calls (core/integration.c,
 * api/integrations.c), the channel calls, delivery (delivery/target.c,
 * delivery/dispatcher.c) and the metrics page see them. What the writer's
 * cache reads of them is in store/config.c. Every other statement about
 * integrations and subscriptions lives in store/integrations.c. */
#ifndef TOCSIN_STORE_INTEGRATIONS_H
#define TOCSIN_STORE_INTEGRATIONS_H

#include <stdint.h>

#include "store/store.h"

/* A whole row but failing_since (core/integration.h says what each column
 * holds). Read: strings valid during the callback only. */
typedef struct {
    int64_t integration_id;
    const char *type, *name, *description, *status, *disabled_reason;
    int64_t channel_id;
    const char *integration_key; /* NULL: none (every kind but the alert sources) */
    const char *config;          /* JSON */
    int64_t created_at, updated_at, deleted_at;
    const char *signing_secret, *prev_signing_secret; /* NULL: none */
    int64_t prev_secret_expires_at;
} store_integration_record;

typedef int (*store_integration_record_fn)(void *arg, const store_integration_record *r,
                                           tc_err *err);

/* The row integration_id, deleted ones too: 1 after fn ran on it, 0 when
 * there is none, -1 with *err (fn's failure included). */
int store_integrations_get(store_conn *c, int64_t integration_id, store_integration_record_fn fn,
                           void *arg, tc_err *err);

/* A new row (r->integration_id unused); *integration_id receives the id
 * the store picked. key_hash: SHA-256 hex of the integration key, NULL when
 * there is none. Strings NULL but the nullable ones: "". */
int store_integrations_insert(store_conn *c, const store_integration_record *r,
                              const char *key_hash, int64_t *integration_id, tc_err *err);
/* Every column of the row r->integration_id. An integration enabled again
 * (from another status) starts its failing streak afresh. */
int store_integrations_update(store_conn *c, const store_integration_record *r,
                              const char *key_hash, tc_err *err);

/* The integration of `type` that is not deleted, is not except_id and has
 * this name, compared without regard to case: 1 with *integration_id, 0
 * when the name is free, -1 with *err. */
int store_integrations_name_owner(store_conn *c, const char *type, const char *name,
                                  int64_t except_id, int64_t *integration_id, tc_err *err);

/* The ids of the integrations of `type` ("": any) and `status` ("": any
 * but deleted), by id. */
int store_integrations_list_ids(store_conn *c, const char *type, const char *status,
                                int (*fn)(void *arg, int64_t integration_id, tc_err *err),
                                void *arg, tc_err *err);

/* The config of every custom action that is not deleted, but except_id
 * (strings valid during the callback only). */
typedef struct {
    int64_t integration_id;
    const char *config;
} store_integration_config;

int store_integrations_each_custom_action(store_conn *c, int64_t except_id,
                                          int (*fn)(void *arg, const store_integration_config *r,
                                                    tc_err *err),
                                          void *arg, tc_err *err);

/* Sources (alert_standard, alert_prometheus, change_standard) that are not
 * deleted and send into the channel. */
int store_integrations_count_sources(store_conn *c, int64_t channel_id, int64_t *n, tc_err *err);

/* Id, type, name and status of every integration that is not deleted, by
 * id (strings valid during the callback only). */
typedef struct {
    int64_t integration_id;
    const char *type, *name, *status;
} store_integration_brief;

int store_integrations_each_live(store_conn *c,
                                 int (*fn)(void *arg, const store_integration_brief *r,
                                           tc_err *err),
                                 void *arg, tc_err *err);

/* ---- subscriptions (the outbox fan-out matches events against them) ---- */

/* Removes every subscription of the integration. */
int store_integrations_subscriptions_clear(store_conn *c, int64_t integration_id, tc_err *err);
/* Adds one (channel_id 0: every channel; event_type "": every type of the
 * kind); one already there is left as it is. */
int store_integrations_subscription_add(store_conn *c, int64_t integration_id, const char *kind,
                                        int64_t channel_id, const char *event_type, tc_err *err);

/* ---- delivery ---------------------------------------------------------- */

/* A pushing integration (webhook_incident, webhook_alert, custom_action)
 * that is not deleted, as delivery reads it. Strings valid until the next
 * row (or the end of the callback); a NULL column reads as "". */
typedef struct {
    int64_t integration_id;
    const char *type, *name, *status, *config;
    const char *signing_secret, *prev_signing_secret;
    int64_t prev_secret_expires_at;
    int64_t failing_since; /* ms; read by the cursor only (0 otherwise) */
} store_push_target_row;

/* The pushing integration integration_id unless deleted: 1 after fn ran on
 * it, 0 when there is none (or it is not a pushing kind), -1 with *err. */
int store_integrations_push_target(store_conn *c, int64_t integration_id,
                                   int (*fn)(void *arg, const store_push_target_row *r,
                                             tc_err *err),
                                   void *arg, tc_err *err);

/* Every pushing integration that is not deleted, one row at a time: the
 * dispatcher tells a store that could not start the read (open fails:
 * nothing was read) from one that failed on the way (next fails: the rows
 * before were read). Every cursor opened is closed. */
typedef struct {
    store_stmt *q;
} store_push_target_cursor;

int store_integrations_push_targets_open(store_conn *c, store_push_target_cursor *cur, tc_err *err);
/* STORE_ROW with *r filled, STORE_DONE, or -1 with *err. */
int store_integrations_push_targets_next(store_push_target_cursor *cur, store_push_target_row *r,
                                         tc_err *err);
void store_integrations_push_targets_close(store_push_target_cursor *cur);

/* The integration's failing streak: one began at failing_since (ms; kept
 * if the store already has an older start, which another node's attempts
 * may have set), or it ended (0). */
int store_integrations_set_failing_since(store_conn *c, int64_t integration_id,
                                         int64_t failing_since, tc_err *err);
/* Disables the integration, if it is enabled, saying why. With
 * failing_before > 0, only if the stored streak began at or before it
 * (the 24-hour rule: a success anywhere since ended the streak). */
int store_integrations_disable(store_conn *c, int64_t integration_id, const char *reason,
                               int64_t now_s, int64_t failing_before, tc_err *err);

#endif
