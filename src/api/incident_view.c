/* incident_view.c: see incident_view.h. */
#include "api/incident_view.h"

#include <stdio.h>
#include <string.h>

#include "core/channel.h"
#include "core/grouping.h"
#include "core/incident_actions.h"
#include "core/render.h"
#include "store/persons.h"
#include "util/doc.h"
#include "util/jbuild.h"

/* The account tocsin stands for: one per installation, so fixed values
 * (the name is the webhook bodies' account_name). */
#define VIEW_ACCOUNT_NAME RENDER_ACCOUNT_NAME
#define VIEW_ACCOUNT_LOCALE "en-US"
#define VIEW_ACCOUNT_TIME_ZONE "UTC"

void incident_view_num(const char *incident_id, char *out) {
    render_incident_num(incident_id, out);
}

/* A stored JSON column (NULL or "": the empty value of `type`), parsed
 * into *out. A value of another type reads as the type's empty value, so
 * that every field of the view is typed; text that cannot be parsed is an
 * InternalError (util/doc.h). */
static int column(const char *text, json_type type, const char *what, const char *id, json_t **out,
                  tc_err *err) {
    const char *empty = type == JSON_ARRAY ? "[]" : "{}";
    *out = NULL;
    if (doc_parse(text && *text ? text : empty, what, id, out, err) != 0)
        return -1;
    if (json_typeof(*out) == type)
        return 0;
    json_decref(*out);
    *out = type == JSON_ARRAY ? json_array() : json_object();
    return *out ? 0 : tc_err_oom(err, "rendering an incident");
}

int incident_view_overrides(const tc_incident *inc, json_t **out, tc_err *err) {
    json_t *pins = NULL;
    *out = NULL;
    if (column(inc->pins, JSON_OBJECT, "incident_pins", inc->incident_id, &pins, err) != 0)
        return -1;
    json_t *list = json_array();
    int failed = !list;
    const char *key;
    json_t *v;
    json_object_foreach(pins, key, v) {
        if (json_is_true(v))
            jb_append(list, json_string(key), &failed);
    }
    json_decref(pins);
    if (failed) {
        json_decref(list);
        return tc_err_oom(err, "rendering an incident");
    }
    *out = list;
    return 0;
}

/* An integer member (a real is cut; anything else is 0), as a new value. */
static json_t *int_of(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (json_is_real(v))
        return json_integer((json_int_t)json_real_value(v));
    return json_integer(json_integer_value(v));
}

static void copy_str(json_t *obj, const char *key, char *out, size_t size) {
    const char *s = json_string_value(json_object_get(obj, key));
    snprintf(out, size, "%s", s ? s : "");
}

/* Responders with the current name and email of each person. */
static int render_responders(store_conn *c, const tc_incident *inc, json_t **out, tc_err *err) {
    json_t *stored = NULL;
    if (column(inc->responders, JSON_ARRAY, "incident_responders", inc->incident_id, &stored,
               err) != 0)
        return -1;
    json_t *list = json_array();
    size_t i;
    json_t *r;
    int failed = !list;
    json_array_foreach(stored, i, r) {
        if (failed)
            break;
        int64_t id = json_integer_value(json_object_get(r, "person_id"));
        tc_person p = {.person_id = id};
        int found = store_persons_get(c, id, &p, err);
        if (found < 0) {
            json_decref(stored);
            json_decref(list);
            return -1;
        }
        if (!found) {
            /* A person deleted since: show what the incident recorded. */
            copy_str(r, "person_name", p.person_name, sizeof(p.person_name));
            copy_str(r, "email", p.email, sizeof(p.email));
        }
        jb_append(list,
                  json_pack("{s:I, s:s, s:s, s:o, s:o}", "person_id", (json_int_t)id, "person_name",
                            p.person_name, "email", p.email, "assigned_at",
                            int_of(r, "assigned_at"), "acknowledged_at",
                            int_of(r, "acknowledged_at")),
                  &failed);
    }
    json_decref(stored);
    if (failed) {
        json_decref(list);
        return tc_err_oom(err, "an incident's responders");
    }
    *out = list;
    return 0;
}

/* The person ids of the rendered responders (NULL when out of memory). */
static json_t *responder_ids(json_t *responders) {
    json_t *ids = json_array();
    size_t i;
    json_t *r;
    int failed = !ids;
    json_array_foreach(responders, i, r) {
        if (failed)
            break;
        jb_append(ids, json_deep_copy(json_object_get(r, "person_id")), &failed);
    }
    if (failed) {
        json_decref(ids);
        return NULL;
    }
    return ids;
}

/* The channel's current name and status; a standalone incident has none
 * (nor does one whose channel row is gone). NULLs (out of memory) are
 * caught where they are set into the view. With them, the incident's
 * dedup_key and equals_md5 under the channel's grouping rules, as its
 * webhook bodies carry them (group_incident_digests). */
static int channel_facts(store_conn *c, const tc_incident *inc, json_t **name, json_t **status,
                         char *key, char *md5, tc_err *err) {
    json_t *ch = NULL;
    *name = *status = NULL;
    if (inc->channel_id != 0 && channel_load(c, inc->channel_id, &ch, err) != 0 &&
        err->code != TC_INVALID_PARAMETER)
        return -1;
    group_rules rules;
    int failed = group_rules_from_channel(ch, &rules) != 0 ||
                 group_incident_digests(&rules, inc->labels, key, md5) != 0;
    group_rules_clear(&rules);
    const char *n = json_string_value(json_object_get(ch, "channel_name"));
    const char *s = json_string_value(json_object_get(ch, "status"));
    if (!failed) {
        *name = json_string(n ? n : "");
        *status = json_string(s ? s : "");
    }
    json_decref(ch);
    return failed ? tc_err_oom(err, "rendering an incident") : 0;
}

int incident_view_render(store_conn *c, const char *base_url, const tc_incident *inc, json_t **out,
                         tc_err *err) {
    const char *id = inc->incident_id;
    json_t *responders = NULL, *ch_name = NULL, *ch_status = NULL, *ids = NULL, *types = NULL;
    json_t *labels = NULL, *fields = NULL, *assigned = NULL, *overrides = NULL;
    json_t *creator = NULL, *closer = NULL;
    char dedup_key[65], equals_md5[33];
    *out = NULL;
    if (render_responders(c, inc, &responders, err) != 0 ||
        channel_facts(c, inc, &ch_name, &ch_status, dedup_key, equals_md5, err) != 0 ||
        column(inc->integration_ids, JSON_ARRAY, "incident_integration_ids", id, &ids, err) != 0 ||
        column(inc->integration_types, JSON_ARRAY, "incident_integration_types", id, &types, err) !=
            0 ||
        column(inc->labels, JSON_OBJECT, "incident_labels", id, &labels, err) != 0 ||
        column(inc->fields, JSON_OBJECT, "incident_fields", id, &fields, err) != 0 ||
        column(inc->assigned_to, JSON_OBJECT, "incident_assigned_to", id, &assigned, err) != 0 ||
        incident_view_overrides(inc, &overrides, err) != 0 ||
        (inc->creator && *inc->creator &&
         column(inc->creator, JSON_OBJECT, "incident_creator", id, &creator, err) != 0) ||
        (inc->closer && *inc->closer &&
         column(inc->closer, JSON_OBJECT, "incident_closer", id, &closer, err) != 0)) {
        json_t *all[] = {responders, ch_name,  ch_status, ids,     types, labels,
                         fields,     assigned, overrides, creator, closer};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
            json_decref(all[i]);
        return -1;
    }
    char num[7];
    incident_view_num(id, num);
    char url[1400];
    snprintf(url, sizeof(url), "%s/#/incidents/%s", base_url ? base_url : "", id);
    char method[2] = {inc->group_method ? inc->group_method : 'n', '\0'};
    /* The empty values are made only when used: an allocation whose failure
     * could not change the answer is never made. */
    json_t *first_id =
        json_array_size(ids) ? json_deep_copy(json_array_get(ids, 0)) : json_integer(0);
    json_t *first_type =
        json_array_size(types) ? json_deep_copy(json_array_get(types, 0)) : json_string("");
    int failed = 0;
    json_t *v = jb_check(json_object(), &failed);
    jb_set(v, "incident_id", json_string(id), &failed);
    jb_set(v, "account_id", json_integer(0), &failed);
    jb_set(v, "channel_id", json_integer(inc->channel_id), &failed);
    jb_set(v, "integration_id", first_id, &failed);
    jb_set(v, "integration_ids", ids, &failed);
    jb_set(v, "integration_type", first_type, &failed);
    jb_set(v, "integration_types", types, &failed);
    jb_set(v, "dedup_key", json_string(dedup_key), &failed);
    jb_set(v, "equals_md5", json_string(equals_md5), &failed);
    jb_set(v, "data_source_id", json_integer(render_incident_source(inc->integration_ids)),
           &failed);
    const struct {
        const char *key;
        int64_t value;
    } times[] = {{"start_time", inc->start_time}, {"end_time", inc->end_time},
                 {"last_time", inc->last_time},   {"ack_time", inc->ack_time},
                 {"close_time", inc->close_time}, {"created_at", inc->created_at},
                 {"updated_at", inc->updated_at}, {"snoozed_before", inc->snoozed_before},
                 {"creator_id", inc->creator_id}, {"closer_id", inc->closer_id},
                 {"owner_id", inc->owner_id}};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        jb_set(v, times[i].key, json_integer(times[i].value), &failed);
    const struct {
        const char *key;
        const char *value;
    } texts[] = {{"incident_status", model_rank_name(inc->status)},
                 {"incident_severity", model_rank_name(inc->severity)},
                 {"progress", model_progress_name(inc->progress)},
                 {"title", inc->title},
                 {"description", inc->description},
                 {"impact", inc->impact},
                 {"root_cause", inc->root_cause},
                 {"resolution", inc->resolution},
                 {"detail_url", url}};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        jb_set(v, texts[i].key, json_string(texts[i].value ? texts[i].value : ""), &failed);
    jb_set(v, "ai_summary", json_string(""), &failed);
    jb_set(v, "num", json_string(num), &failed);
    jb_set(v, "group_method", json_string(method), &failed);
    jb_set(v, "ever_muted", json_false(), &failed);
    jb_set(v, "labels", labels, &failed);
    jb_set(v, "fields", fields, &failed);
    jb_set(v, "assigned_to", assigned, &failed);
    jb_set(v, "alert_cnt", json_integer(inc->alert_cnt), &failed);
    jb_set(v, "active_alert_cnt", json_integer(inc->active_alert_cnt), &failed);
    jb_set(v, "alert_event_cnt", json_integer(inc->alert_event_cnt), &failed);
    jb_set(v, "responder_ids", responder_ids(responders), &failed);
    jb_set(v, "responders", responders, &failed);
    jb_set(v, "account_name", json_string(VIEW_ACCOUNT_NAME), &failed);
    jb_set(v, "account_locale", json_string(VIEW_ACCOUNT_LOCALE), &failed);
    jb_set(v, "account_time_zone", json_string(VIEW_ACCOUNT_TIME_ZONE), &failed);
    jb_set(v, "channel_name", ch_name, &failed);
    jb_set(v, "channel_status", ch_status, &failed);
    jb_set(v, "silence_url", json_string(""), &failed);
    jb_set(v, "post_mortem_id", json_string(""), &failed);
    jb_set(v, "images", json_array(), &failed);
    jb_set(v, "manual_overrides", overrides, &failed);
    if (creator)
        jb_set(v, "creator", creator, &failed);
    if (closer)
        jb_set(v, "closer", closer, &failed);
    if (failed) {
        json_decref(v);
        return tc_err_oom(err, "rendering an incident");
    }
    *out = v;
    return 0;
}

int incident_view_feed_item(const char *incident_id, int64_t feed_id, const char *type,
                            int64_t creator_id, int64_t created_at_ms, const char *detail_text,
                            json_t **out, tc_err *err) {
    json_t *detail = NULL;
    if (doc_parse_n(detail_text, "incident_feed", feed_id, &detail, err) != 0)
        return -1;
    if (!json_is_object(detail)) { /* an array: not a detail of any type */
        json_decref(detail);
        detail = json_object();
    }
    *out = json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I}", "ref_id", incident_id, "type", type,
                     "detail", detail, "account_id", (json_int_t)0, "creator_id",
                     (json_int_t)creator_id, "created_at", (json_int_t)created_at_ms, "updated_at",
                     (json_int_t)created_at_ms);
    return *out ? 0 : tc_err_oom(err, "a timeline entry");
}

/* One of Critical, Warning, Info, Ok (the schemas' enum), else fallback. */
static const char *severity_of(const char *s, const char *fallback) {
    return model_rank_parse(s) >= 0 ? s : fallback;
}

int incident_view_alert_event(const store_alert_event_item *e, json_t **out, tc_err *err) {
    json_t *labels = NULL, *images = NULL;
    *out = NULL;
    if (column(e->labels, JSON_OBJECT, "alert_event_labels", e->event_id, &labels, err) != 0)
        return -1;
    if (column(e->images, JSON_ARRAY, "alert_event_images", e->event_id, &images, err) != 0) {
        json_decref(labels);
        return -1;
    }
    const char *status = severity_of(e->event_status, "Info");
    *out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I,"
                     " s:o, s:o, s:I, s:I, s:I}",
                     "event_id", e->event_id, "alert_id", e->alert_id, "account_id", (json_int_t)0,
                     "channel_id", (json_int_t)e->channel_id, "integration_id",
                     (json_int_t)e->integration_id, "integration_type",
                     render_source_type(e->integration_type ? e->integration_type : ""),
                     "data_source_id", (json_int_t)e->integration_id, "title", e->title,
                     "title_rule", e->title_rule, "description", e->description, "alert_key",
                     e->alert_key, "event_severity", severity_of(e->event_severity, status),
                     "event_status", status, "event_time", (json_int_t)e->event_time, "labels",
                     labels, "images", images, "created_at", (json_int_t)e->created_at,
                     "updated_at", (json_int_t)e->created_at, "deleted_at", (json_int_t)0);
    return *out ? 0 : tc_err_oom(err, "an alert's events");
}
