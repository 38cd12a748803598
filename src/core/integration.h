/* integration.h: the integration record (reference/integrations.md).
 *
 * One row of the integrations table, for every kind: alert sources
 * (alert_standard, alert_prometheus) use channel_id and integration_key;
 * the pushing kinds (webhook_incident, webhook_alert, custom_action) keep
 * their endpoint, headers, channel_ids, event_types, template and delivery
 * policy in `config` and their secrets in the signing columns. The API
 * (api/integrations.c) validates requests into this struct; the ingest
 * engine and delivery read the table directly by key or id.
 *
 * status is enabled | disabled | deleted; a deleted row is kept (alerts and
 * history point at it) but its name is free again and its key refused. */
#ifndef TOCSIN_INTEGRATION_H
#define TOCSIN_INTEGRATION_H

#include <jansson.h>
#include <stdint.h>

#include "core/writer.h"
#include "store/store.h"
#include "util/err.h"

#define INTEGRATION_NAME_MAX 128
#define INTEGRATION_DESCRIPTION_MAX 500
#define INTEGRATION_KEY_BYTES 16 /* 32 hex characters */

typedef struct {
    int64_t integration_id; /* 0 until inserted */
    char type[32];
    char *name;
    char *description;
    char status[16];
    char *disabled_reason;
    int64_t channel_id;    /* alert sources; 0 otherwise */
    char *integration_key; /* alert sources; NULL otherwise */
    json_t *config;        /* pushing kinds; {} otherwise */
    int64_t created_at, updated_at, deleted_at;
} integration;

void integration_init(integration *in);
void integration_clear(integration *in);

/* Replaces a string field with a copy of value (NULL allowed). */
int integration_set_str(char **field, const char *value, tc_err *err);

/* Loads any row, deleted included. InvalidParameter
 * "integration_id X does not exist" when there is none. */
int integration_load(store_conn *c, int64_t integration_id, integration *out, tc_err *err);

/* Inserts (integration_id 0: sets it and created_at) or updates the row;
 * sets updated_at to the batch time. */
int integration_save(writer_txn *txn, integration *in, tc_err *err);

/* InvalidParameter naming `name` when another integration of the same type
 * that is not deleted (other than except_id) has this name, compared
 * without regard to case. */
int integration_name_free(store_conn *c, const char *type, const char *name, int64_t except_id,
                          tc_err *err);

#endif
