/* target.h: a pushing integration as delivery sees it.
 *
 * Parsed from one integrations row (its normalized `config`, see
 * core/integration.h, and its secrets). The dispatcher keeps one per
 * integration and reloads them all when an integration changes; the
 * synchronous sends (custom actions, tests, resends) load one at a time. */
#ifndef TOCSIN_TARGET_H
#define TOCSIN_TARGET_H

#include <jansson.h>
#include <stdint.h>

#include "delivery/retry.h"
#include "delivery/signature.h"
#include "store/integrations.h"
#include "store/store.h"
#include "util/err.h"

/* Bytes an endpoint can take (2,048 characters of UTF-8, push_config.h). */
#define PUSH_TARGET_ENDPOINT_MAX (2048 * 4)

typedef struct {
    int64_t integration_id;
    char type[32]; /* webhook_incident | webhook_alert | custom_action */
    char *name;
    int enabled; /* status 'enabled' (a disabled target keeps its pushes waiting) */
    char *endpoint;
    json_t *headers; /* object of string values */
    int tls_verify;
    int64_t timeout_ms;
    char *body_template; /* NULL: the default body */
    json_t *channel_ids;
    retry_policy retry;
    int ordered;
    int signing;
    char *secret;
    char *prev_secret; /* NULL when none or expired */
    int64_t prev_secret_expires_at;
    /* The secrets keyed once for signing (signature.h); NULL when there is
     * no secret or it is not valid (signing then fails with its error). */
    signature_signer *signer, *prev_signer;
} push_target;

void push_target_init(push_target *t);
void push_target_clear(push_target *t);

/* A pushing integration that is not deleted. InvalidParameter when the id
 * is unknown, deleted, or an alert source. */
int push_target_load(store_conn *c, int64_t integration_id, int64_t now_s, push_target *out,
                     tc_err *err);

/* Fills t from a row the store read (store/integrations.h). */
int push_target_from_row(const store_push_target_row *row, int64_t now_s, push_target *t,
                         tc_err *err);

#endif
