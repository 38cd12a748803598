/* store/incident_list.c: see store/incident_list.h. */
#include "store/incident_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/incidents.h"
#include "store/listing.h"

/* ---- /incident/list ----------------------------------------------------------- */

/* " AND EXISTS (a responder whose person_id is among ids [and who has
 * acknowledged])": responders is a JSON array of Responder objects, read
 * with each engine's own JSON functions. */
static void responders_filter(listing_query *q, store_engine_kind kind, json_t *ids, int acked) {
    if (json_array_size(ids) == 0)
        return;
    if (kind == STORE_ENGINE_POSTGRES) {
        listing_sql(q, " AND EXISTS (SELECT 1 FROM jsonb_array_elements("
                       "CAST(incidents.responders AS jsonb)) AS r WHERE 1 = 1");
        if (acked)
            listing_sql(q, " AND CAST(r->>'acknowledged_at' AS BIGINT) > 0");
        listing_in_ints(q, "CAST(r->>'person_id' AS BIGINT)", ids);
    } else {
        listing_sql(q, " AND EXISTS (SELECT 1 FROM json_each(incidents.responders) AS r"
                       " WHERE 1 = 1");
        if (acked)
            listing_sql(q, " AND json_extract(r.value, '$.acknowledged_at') > 0");
        listing_in_ints(q, "json_extract(r.value, '$.person_id')", ids);
    }
    listing_sql(q, ")");
}

/* %text% for LIKE, with LIKE's own characters (and the escape) escaped. */
static char *like_pattern(const char *text) {
    size_t n = strlen(text);
    char *out = malloc(n * 2 + 3);
    if (!out)
        return NULL;
    char *o = out;
    *o++ = '%';
    for (const char *p = text; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            *o++ = '\\';
        *o++ = *p;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

/* " FROM incidents WHERE ..." for the filter. */
static void list_from(listing_query *q, store_engine_kind kind, const store_incident_filter *f) {
    listing_sql(q, " FROM incidents WHERE deleted_at = 0 AND start_time >= ");
    listing_int(q, f->start);
    listing_sql(q, " AND start_time <= ");
    listing_int(q, f->end);
    listing_in_strs(q, "progress", f->progress, f->nprogress);
    listing_in_strs(q, "incident_severity", f->severity, f->nseverity);
    listing_in_ints(q, "channel_id", f->channel_ids);
    listing_in_ints(q, "creator_id", f->creator_ids);
    listing_in_ints(q, "closer_id", f->closer_ids);
    listing_in_texts(q, "incident_id", f->incident_ids);
    if (json_array_size(f->nums)) {
        /* The short display id (api/incident_view.h), compared without
         * case: the last 6 characters (a negative start counts from the
         * end on SQLite only). */
        listing_sql(q, " AND upper(substr(incident_id, length(incident_id) - 5)) IN (");
        size_t i;
        json_t *v;
        json_array_foreach(f->nums, i, v) {
            listing_sql(q, i ? ", upper(" : "upper(");
            listing_text(q, json_string_value(v));
            listing_sql(q, ")");
        }
        listing_sql(q, ")");
    }
    if (f->query && *f->query) {
        /* lower() folds ASCII letters only (PostgreSQL's too, under the
         * "C" collation of every text column), as strncasecmp did. */
        listing_sql(q, " AND lower(title) LIKE lower(");
        listing_text_take(q, like_pattern(f->query));
        listing_sql(q, ") ESCAPE '\\'");
    }
    responders_filter(q, kind, f->responder_ids, 0);
    responders_filter(q, kind, f->acker_ids, 1);
    if (f->is_snoozed)
        listing_sql(q, " AND snoozed_before > 0");
}

int store_incident_list_count(store_conn *c, const store_incident_filter *f, int64_t *total,
                              tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT COUNT(*)");
    list_from(&q, store_conn_kind(c), f);
    store_stmt *st = listing_prepare(c, &q, err);
    int rc = -1;
    if (st) {
        int step = store_step(st, err);
        *total = step == STORE_ROW ? store_col_int64(st, 0) : 0;
        rc = step < 0 ? -1 : 0;
        store_stmt_done(st);
    }
    listing_query_clear(&q);
    return rc;
}

int store_incident_list_page(store_conn *c, const store_incident_filter *f, const char *after_id,
                             int64_t after_key, int64_t offset, int64_t limit, tc_incident *out,
                             size_t *n, int *has_next, tc_err *err) {
    *n = 0;
    *has_next = 0;
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT " STORE_INCIDENT_COLUMNS);
    list_from(&q, store_conn_kind(c), f);
    if (after_id) {
        listing_sql(&q, f->asc ? " AND (start_time, incident_id) > ("
                               : " AND (start_time, incident_id) < (");
        listing_int(&q, after_key);
        listing_sql(&q, ", ");
        listing_text(&q, after_id);
        listing_sql(&q, ")");
    }
    listing_sql(&q, f->asc ? " ORDER BY start_time ASC, incident_id ASC"
                           : " ORDER BY start_time DESC, incident_id DESC");
    listing_limit(&q, limit + 1, after_id ? 0 : offset);
    store_stmt *st = listing_prepare(c, &q, err);
    int rc = st ? 0 : -1, step = STORE_DONE;
    while (rc == 0 && (step = store_step(st, err)) == STORE_ROW) {
        if ((int64_t)*n == limit) {
            *has_next = 1;
            break;
        }
        if (store_incidents_read_row(st, &out[*n], err) != 0) {
            rc = -1;
            break;
        }
        (*n)++;
    }
    if (rc == 0 && step < 0)
        rc = -1;
    if (st)
        store_stmt_done(st);
    listing_query_clear(&q);
    if (rc != 0) {
        for (size_t i = 0; i < *n; i++)
            tc_incident_clear(&out[i]);
        *n = 0;
        *has_next = 0;
    }
    return rc;
}

/* ---- /incident/alert/list ------------------------------------------------------ */

static void alerts_from(listing_query *q, const char *incident_id, int is_active) {
    listing_sql(q, " FROM alerts WHERE incident_id = ");
    listing_text(q, incident_id);
    /* Active means open: an alert closed by hand keeps its status. */
    if (is_active == 1)
        listing_sql(q, " AND progress <> 'Closed'");
    else if (is_active == 0)
        listing_sql(q, " AND progress = 'Closed'");
}

int store_incident_alerts_count(store_conn *c, const char *incident_id, int is_active,
                                int64_t *total, tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT COUNT(*)");
    alerts_from(&q, incident_id, is_active);
    store_stmt *st = listing_prepare(c, &q, err);
    int rc = -1;
    if (st) {
        int step = store_step(st, err);
        *total = step == STORE_ROW ? store_col_int64(st, 0) : 0;
        rc = step < 0 ? -1 : 0;
        store_stmt_done(st);
    }
    listing_query_clear(&q);
    return rc;
}

int store_incident_alerts_page(store_conn *c, const char *incident_id, int is_active,
                               int64_t offset, int64_t limit, char (*ids)[IDS_OBJECT_LEN + 1],
                               size_t *n, tc_err *err) {
    *n = 0;
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT alert_id");
    alerts_from(&q, incident_id, is_active);
    listing_sql(&q, " ORDER BY start_time ASC, alert_id ASC");
    listing_limit(&q, limit, offset);
    store_stmt *st = listing_prepare(c, &q, err);
    int step = -1;
    if (st) {
        while ((int64_t)*n < limit && (step = store_step(st, err)) == STORE_ROW) {
            snprintf(ids[*n], IDS_OBJECT_LEN + 1, "%s", store_col_text(st, 0));
            (*n)++;
        }
        if ((int64_t)*n == limit)
            step = STORE_DONE;
        store_stmt_done(st);
    }
    listing_query_clear(&q);
    return step < 0 ? -1 : 0;
}

int store_incident_alert_events(store_conn *c, const char *alert_id, int64_t limit,
                                int (*fn)(void *arg, const store_alert_event_item *e, tc_err *err),
                                void *arg, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "SELECT e.event_id, e.alert_id, e.integration_id, e.channel_id, COALESCE(i.type, ''),"
        " e.alert_key, e.event_severity, e.event_status, e.event_time, e.created_at, e.title,"
        " e.title_rule, e.description, e.labels, e.images FROM alert_events e"
        " LEFT JOIN integrations i ON i.integration_id = e.integration_id"
        " WHERE e.alert_id = ? ORDER BY e.event_time DESC, e.seq DESC LIMIT ?",
        err);
    if (!st)
        return -1;
    store_bind_text(st, 1, alert_id);
    store_bind_int64(st, 2, limit);
    int rc = 0, step = STORE_DONE;
    while (rc == 0 && (step = store_step(st, err)) == STORE_ROW) {
        store_alert_event_item e = {
            .event_id = store_col_text(st, 0),
            .alert_id = store_col_text(st, 1),
            .integration_id = store_col_int64(st, 2),
            .channel_id = store_col_int64(st, 3),
            .integration_type = store_col_text(st, 4),
            .alert_key = store_col_text(st, 5),
            .event_severity = store_col_text(st, 6),
            .event_status = store_col_text(st, 7),
            .event_time = store_col_int64(st, 8),
            .created_at = store_col_int64(st, 9),
            .title = store_col_text(st, 10),
            .title_rule = store_col_text(st, 11),
            .description = store_col_text(st, 12),
            .labels = store_col_text(st, 13),
            .images = store_col_text(st, 14),
        };
        rc = fn(arg, &e, err);
    }
    if (rc == 0 && step < 0)
        rc = -1;
    store_stmt_done(st);
    return rc;
}
