/* model.h: an alert and an incident as rows of columns.
 *
 * These are the objects of reference/webhooks.md plus tocsin's own
 * bookkeeping, one C field per stored column (store/alerts.h,
 * store/incidents.h). Scalar fields are typed; the few lists and maps
 * (labels, images, responders, fields, pins, ...) are kept as the compact
 * JSON text they are stored as, parsed only by the code that changes them
 * (incident actions) and copied as they are into the webhook bodies.
 *
 * Each struct owns every string it points to: _init zeroes it, _clear frees
 * its strings and zeroes it again, and model_set_str replaces one string.
 *
 * Severity and status are ranks: 0 Ok, 1 Info, 2 Warning, 3 Critical
 * (an alert's or incident's severity is never Ok). Progress is 0
 * Triggered, 1 Processing, 2 Closed. The stored columns keep the names. */
#ifndef TOCSIN_MODEL_H
#define TOCSIN_MODEL_H

#include <stdint.h>

#include "core/event_input.h"
#include "util/err.h"
#include "util/ids.h"

enum { RANK_OK = 0, RANK_INFO = 1, RANK_WARNING = 2, RANK_CRITICAL = 3 };
enum { PROGRESS_TRIGGERED = 0, PROGRESS_PROCESSING = 1, PROGRESS_CLOSED = 2 };

const char *model_rank_name(int rank);  /* "Ok" ... "Critical" */
int model_rank_parse(const char *name); /* -1 when unknown */
const char *model_progress_name(int progress);
int model_progress_parse(const char *name); /* -1 when unknown */

/* Replaces *field with a copy of value (NULL stays NULL). -1 when out of
 * memory (*field unchanged). */
int model_set_str(char **field, const char *value);

typedef struct {
    int64_t id; /* rowid (0 until stored) */
    char alert_id[IDS_OBJECT_LEN + 1];
    int64_t integration_id;
    int64_t channel_id;
    char *alert_key;
    char incident_id[IDS_OBJECT_LEN + 1]; /* "" before it joins one */
    int progress;                         /* PROGRESS_TRIGGERED or PROGRESS_CLOSED */
    int severity;                         /* rank */
    int status;                           /* rank; 0 once recovered */
    int64_t start_time, last_time, end_time, close_time;
    int64_t created_at, updated_at;
    int64_t event_cnt;
    int ever_muted;                      /* a silence or inhibit rule held an event back */
    char event_hash[EVENT_HASH_LEN + 1]; /* of its newest event */
    char *title, *title_rule, *description;
    char *labels; /* JSON object text */
    char *images; /* JSON array text */
    char *lanes;  /* "integration:sequence,..." (outbox.h) */
    /* Its timeline's first entry, a_new (migration 011): set only on an
     * alert about to be inserted; stored, never read back into the struct. */
    int64_t new_at;   /* ms */
    char *new_detail; /* FeedDetail JSON text, or NULL: none in the row */
} tc_alert;

void tc_alert_init(tc_alert *a);
void tc_alert_clear(tc_alert *a);

typedef struct {
    int64_t id; /* rowid (0 until stored) */
    char incident_id[IDS_OBJECT_LEN + 1];
    int64_t channel_id;
    int progress;
    int severity; /* rank, never Ok */
    int status;   /* rank: the highest among its open alerts; Ok once recovered */
    char *title, *description, *impact, *root_cause, *resolution;
    int64_t start_time, last_time, end_time, ack_time, close_time, snoozed_before;
    int64_t created_at, updated_at, deleted_at;
    int64_t creator_id, closer_id, owner_id;
    char *creator, *closer; /* Person JSON text, or NULL */
    char group_method;      /* 'n', 'p' or 'i' */
    int64_t alert_cnt, active_alert_cnt, alert_event_cnt;
    int64_t last_alert_time; /* newest alert joined (sliding windows) */
    int64_t max_alert_end;   /* newest recovery among its alerts */
    char *pins;              /* JSON object text: fields edited by hand */
    char *storm_fired;       /* JSON array text of thresholds warned about */
    char *integration_ids;   /* JSON array text */
    char *integration_types; /* JSON array text */
    char *labels;            /* JSON object text; NULL for a hand-made incident */
    char *fields;            /* JSON object text */
    char *responders;        /* JSON array text of Responder */
    char *assigned_to;       /* JSON object text, or NULL */
    char *group_keys;        /* JSON array text of grouping bucket keys */
    char *lanes;             /* "integration:sequence,..." */
    /* Its timeline's first entry, i_new, by creator_id (migration 011): set
     * only on an incident about to be inserted; never read back. */
    int64_t new_at;   /* ms */
    char *new_detail; /* FeedDetail JSON text, or NULL: none in the row */
} tc_incident;

void tc_incident_init(tc_incident *inc);
void tc_incident_clear(tc_incident *inc);
/* A deep copy (dst initialised by the caller, cleared first). */
int tc_incident_copy(tc_incident *dst, const tc_incident *src, tc_err *err);
int tc_alert_copy(tc_alert *dst, const tc_alert *src, tc_err *err);

/* Whether the incident's field `key` ("title", "incident_severity",
 * "description") was edited by hand (pins). */
int model_incident_pinned(const tc_incident *inc, const char *key);

#endif
