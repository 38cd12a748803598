/* alert_view.c: see alert_view.h. */
#include "api/alert_view.h"

#include <string.h>

#include "core/alert.h"
#include "util/doc.h"
#include "util/jbuild.h"

static const char *str_of(json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static json_int_t int_of(json_t *obj, const char *key) {
    return json_integer_value(json_object_get(obj, key));
}

/* One of Critical, Warning, Info, Ok (the schemas' enum), else fallback. */
static const char *severity_of(const char *s, const char *fallback) {
    static const char *const known[] = {"Critical", "Warning", "Info", "Ok", NULL};
    for (int i = 0; known[i]; i++)
        if (s && strcmp(s, known[i]) == 0)
            return known[i];
    return fallback;
}

/* The object value of doc[key] (shared, not copied), or a new empty one. */
static json_t *object_or_empty(json_t *doc, const char *key) {
    json_t *v = json_object_get(doc, key);
    return json_is_object(v) ? json_incref(v) : json_object();
}

static json_t *array_or_empty(json_t *doc, const char *key) {
    json_t *v = json_object_get(doc, key);
    return json_is_array(v) ? json_incref(v) : json_array();
}

const char *alert_view_plugin_key(const char *integration_type) {
    if (integration_type && strncmp(integration_type, "alert_", 6) == 0)
        return integration_type + 6;
    return integration_type ? integration_type : "";
}

static json_t *incident_short(json_t *doc, const alert_view_refs *refs) {
    json_t *inc = json_object_get(doc, "incident");
    const char *id = str_of(inc, "incident_id");
    if (!id[0])
        return NULL;
    return json_pack("{s:s, s:s, s:s}", "incident_id", id, "title",
                     refs->incident_title ? refs->incident_title : str_of(inc, "title"), "progress",
                     refs->incident_progress ? refs->incident_progress : "");
}

json_t *alert_view_item(json_t *doc, const alert_view_refs *refs) {
    static const alert_view_refs none = {0};
    if (!refs)
        refs = &none;
    const char *iname =
        refs->integration_name ? refs->integration_name : str_of(doc, "data_source_name");
    const char *itype =
        refs->integration_type ? refs->integration_type : str_of(doc, "data_source_type");
    const char *severity = severity_of(str_of(doc, "alert_severity"), "Info");
    json_int_t source = int_of(doc, "data_source_id");
    json_t *item = json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:I, s:I, s:I, s:I, s:o, s:b, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:I, s:o, s:s, s:s, s:s}",
        "alert_id", str_of(doc, "alert_id"), "integration_id", source, "data_source_id", source,
        "channel_id", int_of(doc, "channel_id"), "account_id", (json_int_t)0, "title",
        str_of(doc, "title"), "title_rule", str_of(doc, "title_rule"), "description",
        str_of(doc, "description"), "alert_severity", severity, "alert_status",
        severity_of(str_of(doc, "alert_status"), severity), "alert_key", str_of(doc, "alert_key"),
        "progress", str_of(doc, "progress"), "start_time", int_of(doc, "start_time"), "last_time",
        int_of(doc, "last_time"), "end_time", int_of(doc, "end_time"), "close_time",
        int_of(doc, "close_time"), "labels", object_or_empty(doc, "labels"), "ever_muted", 0,
        "created_at", int_of(doc, "created_at"), "updated_at", int_of(doc, "updated_at"),
        "integration_name", iname, "integration_type", itype, "integration_ref_id", "",
        "channel_name", refs->channel_name ? refs->channel_name : str_of(doc, "channel_name"),
        "channel_status", refs->channel_status ? refs->channel_status : "", "responder_name",
        refs->responder_name ? refs->responder_name : "", "responder_email",
        refs->responder_email ? refs->responder_email : "", "event_cnt", int_of(doc, "event_cnt"),
        "images", array_or_empty(doc, "images"), "data_source_name", iname, "data_source_type",
        itype, "data_source_ref_id", "");
    if (!item)
        return NULL;
    /* An alert of an incident names it, or there is no item. */
    if (str_of(json_object_get(doc, "incident"), "incident_id")[0] &&
        json_object_set_new(item, "incident", incident_short(doc, refs)) != 0) {
        json_decref(item);
        return NULL;
    }
    return item;
}

json_t *alert_view_event(json_t *doc) {
    const char *status = severity_of(str_of(doc, "event_status"), "Info");
    json_int_t source = json_object_get(doc, "integration_id") ? int_of(doc, "integration_id")
                                                               : int_of(doc, "data_source_id");
    json_int_t event_time = int_of(doc, "event_time");
    json_t *created = json_object_get(doc, "created_at");
    json_int_t created_at = created ? json_integer_value(created) : event_time;
    json_t *updated = json_object_get(doc, "updated_at");
    return json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I,"
        " s:o, s:o, s:I, s:I, s:I}",
        "event_id", str_of(doc, "event_id"), "alert_id", str_of(doc, "alert_id"), "account_id",
        (json_int_t)0, "channel_id", int_of(doc, "channel_id"), "integration_id", source,
        "integration_type", alert_view_plugin_key(str_of(doc, "integration_type")),
        "data_source_id", source, "title", str_of(doc, "title"), "title_rule",
        str_of(doc, "title_rule"), "description", str_of(doc, "description"), "alert_key",
        str_of(doc, "alert_key"), "event_severity",
        severity_of(str_of(doc, "event_severity"), status), "event_status", status, "event_time",
        event_time, "labels", object_or_empty(doc, "labels"), "images",
        array_or_empty(doc, "images"), "created_at", created_at, "updated_at",
        updated ? json_integer_value(updated) : created_at, "deleted_at", (json_int_t)0);
}

/* Stores a copy of text in hold[key] and returns the copy (lives as long
 * as hold). A failure is flagged: the fallback (what the alert recorded)
 * would be shown instead of the current value. */
static const char *keep(json_t *hold, const char *key, const char *text, int *failed) {
    jb_set(hold, key, json_string(text), failed);
    return json_string_value(json_object_get(hold, key));
}

static int load_integration(store_conn *c, int64_t id, json_t *hold, alert_view_refs *refs,
                            tc_err *err) {
    store_stmt *st =
        store_prepare(c, "SELECT name, type FROM integrations WHERE integration_id = ?", err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, id);
    int step = store_step(st, err), failed = 0;
    if (step == STORE_ROW) {
        refs->integration_name = keep(hold, "integration_name", store_col_text(st, 0), &failed);
        refs->integration_type =
            keep(hold, "integration_type", alert_view_plugin_key(store_col_text(st, 1)), &failed);
    }
    store_stmt_done(st);
    return step < 0 ? -1 : jb_done(failed, "rendering an alert", err);
}

static int load_channel(store_conn *c, int64_t id, json_t *hold, alert_view_refs *refs,
                        tc_err *err) {
    store_stmt *st =
        store_prepare(c, "SELECT channel_name, status FROM channels WHERE channel_id = ?", err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, id);
    int step = store_step(st, err), failed = 0;
    if (step == STORE_ROW) {
        refs->channel_name = keep(hold, "channel_name", store_col_text(st, 0), &failed);
        refs->channel_status = keep(hold, "channel_status", store_col_text(st, 1), &failed);
    }
    store_stmt_done(st);
    return step < 0 ? -1 : jb_done(failed, "rendering an alert", err);
}

/* Title, progress and first responder of the alert's incident. A removed
 * incident still names itself: the alert did belong to it. */
static int load_incident(store_conn *c, const char *id, json_t *hold, alert_view_refs *refs,
                         tc_err *err) {
    store_stmt *st = store_prepare(c, "SELECT doc FROM incidents WHERE incident_id = ?", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, id);
    int step = store_step(st, err), rc = step < 0 ? -1 : 0, failed = 0;
    json_t *inc = NULL;
    if (step == STORE_ROW &&
        (rc = doc_parse(store_col_text(st, 0), "incident", id, &inc, err)) == 0) {
        json_t *first = json_array_get(json_object_get(inc, "responders"), 0);
        refs->incident_title = keep(hold, "incident_title", str_of(inc, "title"), &failed);
        refs->incident_progress = keep(hold, "incident_progress", str_of(inc, "progress"), &failed);
        if (first) {
            refs->responder_name =
                keep(hold, "responder_name", str_of(first, "person_name"), &failed);
            refs->responder_email = keep(hold, "responder_email", str_of(first, "email"), &failed);
        }
        json_decref(inc);
        rc = jb_done(failed, "rendering an alert", err);
    }
    store_stmt_done(st);
    return rc;
}

int alert_view_load(store_conn *c, json_t *doc, json_t **out, tc_err *err) {
    *out = NULL;
    alert_view_refs refs = {0};
    json_t *hold = json_object();
    int rc = -1;
    if (!hold) {
        tc_err_oom(err, "rendering an alert");
        goto out;
    }
    const char *incident_id = str_of(json_object_get(doc, "incident"), "incident_id");
    if (load_integration(c, int_of(doc, "data_source_id"), hold, &refs, err) != 0 ||
        load_channel(c, int_of(doc, "channel_id"), hold, &refs, err) != 0 ||
        (incident_id[0] && load_incident(c, incident_id, hold, &refs, err) != 0))
        goto out;
    *out = alert_view_item(doc, &refs);
    rc = *out ? 0 : tc_err_oom(err, "rendering an alert");
out:
    json_decref(hold);
    return rc;
}

int alert_view_load_id(store_conn *c, const char *alert_id, json_t **out, tc_err *err) {
    json_t *doc = NULL;
    *out = NULL;
    if (alert_load(c, alert_id, &doc, err) != 0)
        return -1;
    int rc = alert_view_load(c, doc, out, err);
    json_decref(doc);
    return rc;
}
