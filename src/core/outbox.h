/* outbox.h: domain events (i_*, a_*), their timeline entries, and the
 * pushes they cause, written inside the writer's transaction.
 *
 * outbox_emit stores one event and, for each integration subscribed to its
 * kind, type and channel (the writer's cache, core/state.h), one
 * `deliveries` row. A change and the pushes it causes are therefore stored
 * together or not at all, and a restart finds every undelivered push in
 * `deliveries` (status pending).
 *
 * The webhook body is rendered only when somebody subscribed, once for all
 * of them, from the object as it stands after the change; the rows carry
 * it, and so do the deliveries handed to the dispatcher once the batch is
 * durable (txn->deliveries): a fresh push is sent without reading the store.
 *
 * Each delivery gets its tocsin-sequence: 1, 2, 3 ... per (integration,
 * object), the lane the dispatcher keeps in order. The last sequence of
 * each lane is kept in the object's own `lanes` column, so outbox_emit
 * changes the object it is given and the caller writes the object's row
 * after its events. */
#ifndef TOCSIN_OUTBOX_H
#define TOCSIN_OUTBOX_H

#include <stdint.h>

#include "core/events.h"
#include "core/model.h"
#include "core/writer.h"
#include "store/events.h"

/* A body shared by the deliveries of one event (reference counted; the
 * dispatcher's threads hold them after the writer has moved on). */
typedef struct outbox_body {
    _Atomic int refs;
    size_t len;
    char text[];
} outbox_body;

outbox_body *outbox_body_new(const char *text, size_t len);
outbox_body *outbox_body_ref(outbox_body *b);
void outbox_body_unref(outbox_body *b);

/* One push, as the dispatcher needs it. */
typedef struct outbox_delivery {
    struct outbox_delivery *next;
    int64_t delivery_id, integration_id, event_seq, sequence;
    int64_t created_at;            /* ms: queued */
    char lane[IDS_OBJECT_LEN + 1]; /* the object: incident or alert id */
    /* The event, as history records it. */
    char event_id[IDS_OBJECT_LEN + 1];
    char event_type[32];
    char object_kind[16]; /* incident | alert */
    int64_t channel_id;
    int64_t event_time; /* ms */
    outbox_body *body;  /* NULL: read it from the event when sent */
} outbox_delivery;

void outbox_deliveries_free(outbox_delivery *list);
/* Drops the pushes written since txn->deliveries was `keep` (a nested
 * SAVEPOINT rolled back; the writer does this for a failed command). */
void outbox_deliveries_drop_to(writer_txn *txn, outbox_delivery *keep);

typedef struct {
    const char *event_type;
    const tc_person *person; /* NULL or person 0: an automatic change */
    /* The timeline entry: feed_ref names the incident or alert whose
     * timeline shows the event (NULL: none), detail its FeedDetail. */
    const char *feed_ref;
    const char *detail;
    /* The object after the change (exactly one). Its lanes change. */
    tc_incident *incident;
    tc_alert *alert;
    const char *incident_title; /* an alert's incident's title ("" if none) */
} outbox_event;

/* Stores the event and its pushes. event_id_out (25 bytes) may be NULL. */
int outbox_emit(writer_txn *txn, outbox_event *ev, char *event_id_out, tc_err *err);

/* A timeline entry that is no domain event (nothing is pushed). */
int outbox_feed_only(writer_txn *txn, const char *type, const char *object_kind,
                     const char *object_id, int64_t channel_id, const tc_person *who,
                     const char *detail, tc_err *err);

/* The next tocsin-sequence of (integration, lanes) in a `lanes` value,
 * which is rewritten (-1 when out of memory). */
int outbox_lanes_next(char **lanes, int64_t integration_id, int64_t *seq, tc_err *err);

/* Queues a stored event again for one integration (/webhook/history/resend,
 * bulk replay): same event_id and body, the lane's next sequence (read and
 * written back in the object's row). */
int outbox_requeue(writer_txn *txn, int64_t integration_id, int64_t event_seq, tc_err *err);

/* The next tocsin-sequence of an object's lane for one integration, written
 * back to the object's row: for pushes outside the outbox (custom actions)
 * that still number their lane. */
int outbox_next_sequence(writer_txn *txn, int64_t integration_id, const char *object_kind,
                         const char *object_id, int64_t *seq, tc_err *err);

#endif
