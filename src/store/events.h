/* store/events.h: the event log (the outbox) and the timelines, one table
 * (migration 007): typed reads and writes. Every statement about events
 * lives in store/events.c.
 *
 * A row is a domain event (i_*, a_*: event_id set; body set when some
 * integration subscribed to it), a timeline entry (feed_ref set, with its
 * detail), or both. The first entry of a timeline (i_new, a_new) is kept
 * in its incident's or alert's row instead (migration 011), and the feed
 * reads it from there. */
#ifndef TOCSIN_STORE_EVENTS_H
#define TOCSIN_STORE_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"
#include "util/ids.h"

typedef struct {
    int64_t seq;                       /* set by store_events_append */
    char event_id[IDS_OBJECT_LEN + 1]; /* "" for a timeline entry only */
    int64_t event_time;                /* ms */
    const char *event_type;
    const char *object_kind; /* incident | alert */
    const char *object_id;
    int64_t channel_id;
    int64_t person_id;
    const char *feed_ref; /* "" or NULL: on no timeline */
    const char *detail;   /* FeedDetail JSON; NULL: none */
    const char *body;     /* the webhook body; NULL: nobody subscribed */
} store_event_row;

int store_events_append(store_conn *c, store_event_row *row, tc_err *err);

/* One stored event as delivery and history need it (strings owned). */
typedef struct {
    int64_t seq;
    char event_id[IDS_OBJECT_LEN + 1];
    char event_type[32];
    char object_kind[16];
    char object_id[IDS_OBJECT_LEN + 1];
    int64_t channel_id;
    int64_t event_time;
    char *body; /* NULL when none was kept */
} store_event;

void store_event_clear(store_event *e);
/* By seq or by event_id: InvalidParameter when there is no such event. */
int store_events_by_seq(store_conn *c, int64_t seq, store_event *out, tc_err *err);
int store_events_by_event_id(store_conn *c, const char *event_id, store_event *out, tc_err *err);

/* One timeline entry (strings valid during the callback only). */
typedef struct {
    int64_t seq;
    const char *type;
    int64_t person_id;
    int64_t created_at; /* ms */
    const char *detail; /* FeedDetail JSON */
} store_feed_row;

/* The timeline of an incident or alert (object_kind "incident" or "alert",
 * feed_ref its id), oldest first when asc: page p (from 1) of `limit` rows,
 * only the types listed (NULL or empty: all). Calls fn per row; *more tells
 * whether a next page exists. The first entry (i_new, a_new) comes from the
 * object's row when it holds it (migration 011), with seq 0. */
int store_events_feed(store_conn *c, const char *object_kind, const char *feed_ref, int asc,
                      json_t *types, int64_t p, int64_t limit,
                      int (*fn)(void *arg, const store_feed_row *r, tc_err *err), void *arg,
                      int *more, tc_err *err);

#endif
