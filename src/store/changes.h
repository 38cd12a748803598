/* store/changes.h: changes and their events (migration 010, PostgreSQL
 * 004): the rows core/change.c merges a pushed change event into, and the
 * reads of /change/list and /incident/change/list (api/changes.c).
 * Statements live in store/changes.c. */
#ifndef TOCSIN_STORE_CHANGES_H
#define TOCSIN_STORE_CHANGES_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"
#include "util/ids.h"

/* One change as stored. Strings are owned when read by
 * store_changes_find (store_change_row_clear frees them), borrowed when
 * written or handed to a callback. */
typedef struct {
    int64_t id; /* rowid; 0 until stored */
    char change_id[IDS_OBJECT_LEN + 1];
    int64_t integration_id, channel_id;
    char *change_key, *title, *description, *link;
    char *labels; /* JSON object text */
    char change_status[16];
    int64_t start_time, last_time, end_time; /* s; end 0 until Done or Canceled */
    int started;                             /* a Processing event set start_time */
    int64_t event_cnt, created_at, updated_at;
    /* Reads only: the names of its integration and channel ("" when gone). */
    const char *integration_name, *channel_name;
} store_change_row;

void store_change_row_clear(store_change_row *ch);

/* The change of (integration_id, change_key): *found 0 when there is none,
 * else *out filled with owned strings (cleared by the caller). */
int store_changes_find(store_conn *c, int64_t integration_id, const char *change_key,
                       store_change_row *out, int *found, tc_err *err);
/* Inserts ch (id 0) or updates the row of ch->id. */
int store_changes_save(store_conn *c, const store_change_row *ch, tc_err *err);

typedef struct {
    char event_id[IDS_OBJECT_LEN + 1];
    const char *change_id;
    int64_t integration_id;
    const char *change_key, *change_status;
    int64_t event_time, created_at; /* s */
    const char *title, *description, *link;
    const char *labels; /* JSON object text */
} store_change_event;

int store_change_events_insert(store_conn *c, const store_change_event *e, tc_err *err);

/* ---- reads -------------------------------------------------------------- */

/* The changes active at some time in [start, end] (seconds): started by
 * `end` and not ended before `start` (an open change, end_time 0, is still
 * active). Arrays borrowed; NULL or empty: any. */
typedef struct {
    int64_t start, end;
    json_t *integration_ids, *channel_ids;
    int by_last_time; /* order by last_time instead of start_time */
    int asc;
} store_change_filter;

typedef int (*store_change_fn)(void *arg, const store_change_row *ch, tc_err *err);
typedef int (*store_change_event_fn)(void *arg, const store_change_event *e, tc_err *err);

/* Calls fn for every matching change in order (ties by id), strings
 * borrowed for the call. */
int store_changes_each(store_conn *c, const store_change_filter *f, store_change_fn fn, void *arg,
                       tc_err *err);
/* The newest `max` events of a change, newest first. */
int store_change_events_of(store_conn *c, const char *change_id, int64_t max,
                           store_change_event_fn fn, void *arg, tc_err *err);

#endif
