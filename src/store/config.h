/* store/config.h: what the writer's cache (core/state.h) reads of the
 * configuration: alert sources by key, channels, integrations, and the
 * subscriptions of the pushing integrations. Rows are handed to a callback
 * one at a time; strings are valid only during the call. */
#ifndef TOCSIN_STORE_CONFIG_H
#define TOCSIN_STORE_CONFIG_H

#include <stdint.h>

#include "store/store.h"

typedef struct {
    int64_t integration_id;
    const char *type;
    const char *name;
    const char *status; /* enabled | disabled | deleted */
    int64_t channel_id;
    const char *key_hash; /* alert sources: SHA-256 hex of the key; "" otherwise */
    const char *key;      /* the key itself (compared in constant time) */
} store_integration_row;

typedef struct {
    int64_t channel_id;
    const char *name;
    const char *status;
    const char *rules; /* {"group":..., "disable_auto_close":...} */
} store_channel_row;

typedef struct {
    int64_t integration_id;
    const char *kind;       /* incident | alert */
    int64_t channel_id;     /* 0: every channel */
    const char *event_type; /* "": every type */
} store_subscription_row;

/* The enabled integration whose key hashes to key_hash, with its channel
 * (channel_status NULL when the channel does not exist): what a push's
 * key is checked against off the writer thread. *found 0 when none. */
typedef struct {
    int found;
    char type[32];
    char key[260];
    char channel_name[520];
    char channel_status[16]; /* "" when the channel does not exist */
    int64_t channel_id;      /* 0: routed to no channel (change sources may be) */
} store_source_row;
int store_config_source(store_conn *c, const char *key_hash, store_source_row *out, tc_err *err);

/* Every integration that is not deleted. */
int store_config_each_integration(store_conn *c,
                                  int (*fn)(void *arg, const store_integration_row *r, tc_err *err),
                                  void *arg, tc_err *err);
/* Every channel (deleted ones too: their alerts still name them). */
int store_config_each_channel(store_conn *c,
                              int (*fn)(void *arg, const store_channel_row *r, tc_err *err),
                              void *arg, tc_err *err);
/* Every subscription of an integration that is not deleted. */
int store_config_each_subscription(store_conn *c,
                                   int (*fn)(void *arg, const store_subscription_row *r,
                                             tc_err *err),
                                   void *arg, tc_err *err);

#endif
