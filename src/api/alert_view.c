/* alert_view.c: see alert_view.h. */
#include "api/alert_view.h"

#include <string.h>

#include "core/alert.h"
#include "store/alert_refs.h"
#include "util/doc.h"
#include "util/jbuild.h"
#include "util/log.h"

static const char *or_empty(const char *s) {
    return s ? s : "";
}

/* One of Critical, Warning, Info, Ok (the schemas' enum), else fallback. */
static const char *severity_of(const char *s, const char *fallback) {
    static const char *const known[] = {"Critical", "Warning", "Info", "Ok", NULL};
    for (int i = 0; known[i]; i++)
        if (s && strcmp(s, known[i]) == 0)
            return known[i];
    return fallback;
}

/* Stored JSON text (an object when `object`, else an array; NULL or "":
 * empty) parsed into *out. Text that does not parse, or is not of its
 * kind, is a stored document unreadable. */
static int parse_stored(const char *text, int object, const char *what, const char *id,
                        json_t **out, tc_err *err) {
    *out = NULL;
    if (!text || !text[0])
        text = object ? "{}" : "[]";
    if (doc_parse(text, what, id, out, err) != 0)
        return -1;
    if (object ? json_is_object(*out) : json_is_array(*out))
        return 0;
    json_decref(*out);
    *out = NULL;
    log_error("msg=\"stored document unreadable\" what=%s id=%s error=\"not a JSON %s\"", what, id,
              object ? "object" : "array");
    return tc_err_set(err, TC_INTERNAL, "the stored %s %s cannot be read", what, id);
}

const char *alert_view_plugin_key(const char *integration_type) {
    if (integration_type && strncmp(integration_type, "alert_", 6) == 0)
        return integration_type + 6;
    return integration_type ? integration_type : "";
}

int alert_view_item(const tc_alert *a, const alert_view_refs *refs, json_t **out, tc_err *err) {
    static const alert_view_refs none = {0};
    json_t *labels = NULL, *images = NULL;
    *out = NULL;
    if (!refs)
        refs = &none;
    if (parse_stored(a->labels, 1, "alert labels", a->alert_id, &labels, err) != 0)
        return -1;
    if (parse_stored(a->images, 0, "alert images", a->alert_id, &images, err) != 0) {
        json_decref(labels);
        return -1;
    }
    const char *iname = or_empty(refs->integration_name);
    const char *itype = or_empty(refs->integration_type);
    json_int_t source = a->integration_id;
    int failed = 0;
    json_t *item = jb_check(
        json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                  " s:I, s:I, s:I, s:I, s:o, s:b, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                  " s:I, s:o, s:s, s:s, s:s}",
                  "alert_id", a->alert_id, "integration_id", source, "data_source_id", source,
                  "channel_id", (json_int_t)a->channel_id, "account_id", (json_int_t)0, "title",
                  or_empty(a->title), "title_rule", or_empty(a->title_rule), "description",
                  or_empty(a->description), "alert_severity", model_rank_name(a->severity),
                  "alert_status", model_rank_name(a->status), "alert_key", or_empty(a->alert_key),
                  "progress", model_progress_name(a->progress), "start_time",
                  (json_int_t)a->start_time, "last_time", (json_int_t)a->last_time, "end_time",
                  (json_int_t)a->end_time, "close_time", (json_int_t)a->close_time, "labels",
                  labels, "ever_muted", a->ever_muted, "created_at", (json_int_t)a->created_at,
                  "updated_at", (json_int_t)a->updated_at, "integration_name", iname,
                  "integration_type", itype, "integration_ref_id", "", "channel_name",
                  or_empty(refs->channel_name), "channel_status", or_empty(refs->channel_status),
                  "responder_name", or_empty(refs->responder_name), "responder_email",
                  or_empty(refs->responder_email), "event_cnt", (json_int_t)a->event_cnt, "images",
                  images, "data_source_name", iname, "data_source_type", itype,
                  "data_source_ref_id", ""),
        &failed);
    /* An alert of an incident names it, or there is no item. */
    if (item && a->incident_id[0])
        jb_set(item, "incident",
               json_pack("{s:s, s:s, s:s}", "incident_id", a->incident_id, "title",
                         or_empty(refs->incident_title), "progress",
                         or_empty(refs->incident_progress)),
               &failed);
    if (failed) {
        json_decref(item);
        return tc_err_oom(err, "rendering an alert");
    }
    *out = item;
    return 0;
}

int alert_view_event(const store_alert_event *e, json_t **out, tc_err *err) {
    json_t *labels = NULL, *images = NULL;
    *out = NULL;
    if (parse_stored(e->labels, 1, "alert_event labels", e->event_id, &labels, err) != 0)
        return -1;
    if (parse_stored(e->images, 0, "alert_event images", e->event_id, &images, err) != 0) {
        json_decref(labels);
        return -1;
    }
    const char *status = severity_of(e->event_status, "Info");
    json_int_t created_at = e->created_at ? e->created_at : e->event_time;
    *out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I,"
                     " s:o, s:o, s:I, s:I, s:I}",
                     "event_id", or_empty(e->event_id), "alert_id", or_empty(e->alert_id),
                     "account_id", (json_int_t)0, "channel_id", (json_int_t)e->channel_id,
                     "integration_id", (json_int_t)e->integration_id, "integration_type",
                     alert_view_plugin_key(e->integration_type), "data_source_id",
                     (json_int_t)e->integration_id, "title", or_empty(e->title), "title_rule",
                     or_empty(e->title_rule), "description", or_empty(e->description), "alert_key",
                     or_empty(e->alert_key), "event_severity",
                     severity_of(e->event_severity, status), "event_status", status, "event_time",
                     (json_int_t)e->event_time, "labels", labels, "images", images, "created_at",
                     created_at, "updated_at", created_at, "deleted_at", (json_int_t)0);
    return *out ? 0 : tc_err_oom(err, "rendering an alert event");
}

/* The first responder of a Responder list (JSON text), if any. */
static int first_responder(const store_alert_refs *r, const char *incident_id, json_t **list,
                           alert_view_refs *refs, tc_err *err) {
    *list = NULL;
    if (!r->incident_responders)
        return 0;
    if (parse_stored(r->incident_responders, 0, "incident responders", incident_id, list, err) != 0)
        return -1;
    json_t *first = json_array_get(*list, 0);
    if (first) {
        refs->responder_name = or_empty(json_string_value(json_object_get(first, "person_name")));
        refs->responder_email = or_empty(json_string_value(json_object_get(first, "email")));
    }
    return 0;
}

int alert_view_load(store_conn *c, const tc_alert *a, json_t **out, tc_err *err) {
    *out = NULL;
    store_alert_refs r;
    json_t *responders = NULL;
    if (store_alert_refs_load(c, a->integration_id, a->channel_id, a->incident_id, &r, err) != 0)
        return -1;
    alert_view_refs refs = {
        .integration_name = r.integration_name,
        .integration_type = r.integration_type ? alert_view_plugin_key(r.integration_type) : NULL,
        .channel_name = r.channel_name,
        .channel_status = r.channel_status,
        .incident_title = r.incident_title,
        .incident_progress = r.incident_progress,
    };
    int rc = first_responder(&r, a->incident_id, &responders, &refs, err);
    if (rc == 0)
        rc = alert_view_item(a, &refs, out, err);
    json_decref(responders);
    store_alert_refs_clear(&r);
    return rc;
}

int alert_view_load_id(store_conn *c, const char *alert_id, json_t **out, tc_err *err) {
    tc_alert a;
    *out = NULL;
    if (alert_load(c, alert_id, &a, err) != 0)
        return -1;
    int rc = alert_view_load(c, &a, out, err);
    tc_alert_clear(&a);
    return rc;
}
