/* push_config.h: the request fields of the pushing integrations
 * (webhook_incident, webhook_alert, custom_action; reference/integrations.md)
 * validated into the normalized `config` documented in core/integration.h.
 *
 * Reading is split in two so that nothing stored is read outside a writer
 * command: push_config_read() checks a request body on its own and yields a
 * patch (only the fields given, each already valid and normalized);
 * push_config_apply(), run inside the command, lays the patch over the
 * defaults (create) or the stored config (update). What needs the store
 * (channels exist, at most 3 custom actions per channel, unique names) is
 * checked by the command in api/integrations.c. */
#ifndef TOCSIN_PUSH_CONFIG_H
#define TOCSIN_PUSH_CONFIG_H

#include <jansson.h>

#include "util/err.h"

#define PUSH_ENDPOINT_MAX 2048
#define PUSH_TIMEOUT_MS_MAX 10000
#define PUSH_TIMEOUT_MS_DEFAULT 1000
#define PUSH_HEADERS_MAX 50
#define PUSH_HEADER_NAME_MAX 256
#define PUSH_HEADER_VALUE_MAX 4096
#define PUSH_CHANNELS_MAX 1000
#define PUSH_MAX_ATTEMPTS_MAX 20
#define PUSH_SCHEDULE_S_MAX 86400
/* What info and list show instead of a secret-looking header's value; an
 * update that sends it back keeps the stored value. */
#define PUSH_HEADER_MASK "***"

/* The complete config of a new integration of `type`, every default set
 * (NULL when out of memory, as every builder here). */
json_t *push_config_defaults(const char *type);

/* Validates the pushing fields of a create (creating: endpoint required,
 * and channel_ids for custom_action) or update request. *patch (new
 * reference) holds the fields given; `retry` only the sub-fields given.
 * InvalidParameter naming the field on any violation. */
int push_config_read(const char *type, json_t *body, int creating, json_t **patch, tc_err *err);

/* A new config: base (not changed) with the patch laid over it. A masked
 * header value ("***") for a header base already has keeps base's value. */
json_t *push_config_apply(json_t *base, json_t *patch);

/* True when a header's value is hidden in info and list: its name contains
 * authorization, token, key, secret, password or cookie (any case). */
int push_header_is_secret(const char *name);

/* The headers as info and list show them (new reference). */
json_t *push_config_shown_headers(json_t *headers);

#endif
