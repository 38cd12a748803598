/* channel.h: the channel record and its grouping rules.
 *
 * A channel is stored as its ChannelItem document (channels.doc, schema
 * ChannelItem of oncall-openapi.subset.json); the columns beside it
 * (channel_name, status, times) are written from the same document by
 * channel_save, so they never disagree.
 *
 * The `group` object inside the document is what the ingest engine reads to
 * put a new alert into an incident (reference/event-api.md). It is stored
 * normalized, every field present, so the engine reads it without
 * re-defaulting:
 *   method               "i" | "p" | "n"
 *   equals               [[label key, ...], ...]  at most 5 non-empty lists
 *                        (may be empty: no list can match)
 *   all_equals_required  bool (false)
 *   time_window          minutes, 0..43200 (0: no window)
 *   window_type          "tumbling" | "sliding" ("tumbling")
 *   storm_threshold      0..10000 (0: none)
 *   storm_thresholds     [int 1..10000, ...] at most 5, ascending, no repeats
 *   i_keys               [label key, ...] at most 10
 *   cases                [object, ...] at most 100 (kept, not acted on)
 *   i_score_threshold    number 0.5..1, only when given
 * A channel created without a group gets {"method": "n", ...defaults}.
 * api/channels.c validates and normalizes it (it is request input); this
 * module only loads and stores channels. */
#ifndef TOCSIN_CHANNEL_H
#define TOCSIN_CHANNEL_H

#include <jansson.h>
#include <stdint.h>

#include "core/writer.h"
#include "store/store.h"
#include "util/err.h"

/* The channel's document (new reference), deleted ones included.
 * InvalidParameter "channel_id X does not exist" when there is none. */
int channel_load(store_conn *c, int64_t channel_id, json_t **doc, tc_err *err);

/* Like channel_load, but a deleted channel is refused with InvalidParameter
 * saying so (`action` words it: "cannot be updated"). */
int channel_load_live(store_conn *c, int64_t channel_id, const char *action, json_t **doc,
                      tc_err *err);

/* Inserts a document without channel_id (sets channel_id, created_at and
 * updated_at), or updates one that has it (sets updated_at). */
int channel_save(writer_txn *txn, json_t *doc, tc_err *err);

/* InvalidParameter naming channel_name when a channel that is not deleted,
 * other than `except_id` (0: none), already has this name. */
int channel_name_free(store_conn *c, const char *name, int64_t except_id, tc_err *err);

#endif
