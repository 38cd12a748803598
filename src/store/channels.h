/* store/channels.h: the channels table as the channel calls see it
 * (core/channel.c, api/channels.c): a channel is its ChannelItem document,
 * with the columns beside it (name, status, times, and the rules the
 * ingest engine reads) written from that document in the same statement.
 * What the writer's cache reads of channels is in store/config.c. Every
 * other statement about channels lives in store/channels.c. */
#ifndef TOCSIN_STORE_CHANNELS_H
#define TOCSIN_STORE_CHANNELS_H

#include <stdint.h>

#include "store/store.h"

/* A channel's document (strings valid during the callback only). */
typedef struct {
    int64_t channel_id;
    const char *doc; /* ChannelItem JSON */
} store_channel_doc;

typedef int (*store_channel_doc_fn)(void *arg, const store_channel_doc *ch, tc_err *err);

/* The channel channel_id, deleted ones too: 1 after fn ran on it, 0 when
 * there is none, -1 with *err (fn's failure included). */
int store_channels_doc(store_conn *c, int64_t channel_id, store_channel_doc_fn fn, void *arg,
                       tc_err *err);

/* Every channel that is not deleted, by id. */
int store_channels_each_live(store_conn *c, store_channel_doc_fn fn, void *arg, tc_err *err);

/* Name and status of a channel (strings valid during the callback only). */
typedef struct {
    int64_t channel_id;
    const char *name, *status;
} store_channel_brief;

/* The channel channel_id unless deleted: 1 after fn ran on it, 0 when
 * there is none, -1 with *err. */
int store_channels_brief(store_conn *c, int64_t channel_id,
                         int (*fn)(void *arg, const store_channel_brief *ch, tc_err *err),
                         void *arg, tc_err *err);

/* The channel that is not deleted, is not except_id (0: none) and has this
 * name: 1 with *channel_id, 0 when the name is free, -1 with *err. */
int store_channels_name_owner(store_conn *c, const char *name, int64_t except_id,
                              int64_t *channel_id, tc_err *err);

/* A new row, its document "{}" until store_channels_update writes it;
 * *channel_id receives the id the store picked. */
int store_channels_insert(store_conn *c, const char *name, const char *status, int64_t now_s,
                          int64_t *channel_id, tc_err *err);

/* Every column of the row channel_id. */
typedef struct {
    int64_t channel_id;
    const char *name, *status;
    int64_t created_at, updated_at, deleted_at; /* Unix s */
    const char *doc;                            /* ChannelItem JSON */
    const char *rules;                          /* {"group":..., "disable_auto_close":...} */
} store_channel_write;

int store_channels_update(store_conn *c, const store_channel_write *w, tc_err *err);

#endif
