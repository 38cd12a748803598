/* incident_view.c: see incident_view.h. */
#include "api/incident_view.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/channel.h"
#include "core/incident_actions.h"
#include "util/doc.h"
#include "util/jbuild.h"

/* The account tocsin stands for: one per installation, so fixed values. */
#define VIEW_ACCOUNT_NAME "tocsin"
#define VIEW_ACCOUNT_LOCALE "en-US"
#define VIEW_ACCOUNT_TIME_ZONE "UTC"

void incident_view_num(const char *incident_id, char *out) {
    size_t n = strlen(incident_id);
    const char *tail = n > 6 ? incident_id + n - 6 : incident_id;
    size_t i = 0;
    for (; tail[i] && i < 6; i++)
        out[i] = (char)toupper((unsigned char)tail[i]);
    out[i] = '\0';
}

json_t *incident_view_overrides(json_t *meta) {
    json_t *out = json_array();
    const char *key;
    json_t *v;
    int failed = !out;
    json_object_foreach(json_object_get(meta, "pins"), key, v) {
        if (json_is_true(v))
            jb_append(out, json_string(key), &failed);
    }
    if (failed) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* A copy of doc[key] when it has the wanted type, else the type's empty
 * value ("", 0, [], {}): every required field is typed even for old or odd
 * docs. The empty value is made only when used: an allocation whose
 * failure could not change the answer is never made. NULL when out of
 * memory. */
static json_t *pick(json_t *doc, const char *key, json_type type) {
    json_t *v = json_object_get(doc, key);
    if (v && json_typeof(v) == type)
        return json_deep_copy(v);
    if (type == JSON_INTEGER && json_is_real(v))
        return json_integer((json_int_t)json_real_value(v));
    switch (type) {
    case JSON_STRING:
        return json_string("");
    case JSON_INTEGER:
        return json_integer(0);
    case JSON_ARRAY:
        return json_array();
    default:
        return json_object();
    }
}

static json_t *pick_str(json_t *doc, const char *key) {
    return pick(doc, key, JSON_STRING);
}

static json_t *pick_int(json_t *doc, const char *key) {
    return pick(doc, key, JSON_INTEGER);
}

static void copy_str(json_t *obj, const char *key, char *out, size_t size) {
    const char *s = json_string_value(json_object_get(obj, key));
    snprintf(out, size, "%s", s ? s : "");
}

/* Responders with the current name and email of each person. */
static int render_responders(store_conn *c, json_t *doc, json_t **out, tc_err *err) {
    json_t *list = json_array();
    size_t i;
    json_t *r;
    int failed = !list;
    json_array_foreach(json_object_get(doc, "responders"), i, r) {
        int64_t id = json_integer_value(json_object_get(r, "person_id"));
        tc_person p = {.person_id = id};
        if (incident_person_find(c, id, "person_id", &p, err) != 0) {
            if (err->code != TC_INVALID_PARAMETER) {
                json_decref(list);
                return -1;
            }
            /* A person deleted since: show what the incident recorded. */
            copy_str(r, "person_name", p.person_name, sizeof(p.person_name));
            copy_str(r, "email", p.email, sizeof(p.email));
        }
        jb_append(list,
                  json_pack("{s:I, s:s, s:s, s:o, s:o}", "person_id", (json_int_t)id, "person_name",
                            p.person_name, "email", p.email, "assigned_at",
                            pick_int(r, "assigned_at"), "acknowledged_at",
                            pick_int(r, "acknowledged_at")),
                  &failed);
    }
    if (failed) {
        json_decref(list);
        return tc_err_oom(err, "an incident's responders");
    }
    *out = list;
    return 0;
}

/* The channel's current name and status; a standalone incident has none,
 * and one whose channel is gone keeps the name it recorded. NULLs (out of
 * memory) are caught where they are set into the view. */
static int channel_facts(store_conn *c, json_t *doc, json_t **name, json_t **status, tc_err *err) {
    int64_t channel_id = json_integer_value(json_object_get(doc, "channel_id"));
    json_t *ch = NULL;
    *name = *status = NULL;
    if (channel_id != 0 && channel_load(c, channel_id, &ch, err) != 0 &&
        err->code != TC_INVALID_PARAMETER)
        return -1;
    *name = pick_str(ch ? ch : doc, "channel_name");
    *status = ch ? pick_str(ch, "status") : json_string("");
    json_decref(ch);
    return 0;
}

int incident_view_render(store_conn *c, const incident *inc, json_t **out, tc_err *err) {
    json_t *doc = inc->doc, *meta = inc->meta;
    json_t *responders = NULL, *ch_name = NULL, *ch_status = NULL;
    if (render_responders(c, doc, &responders, err) != 0)
        return -1;
    if (channel_facts(c, doc, &ch_name, &ch_status, err) != 0) {
        json_decref(responders);
        return -1;
    }
    char num[7];
    incident_view_num(json_string_value(json_object_get(doc, "incident_id")), num);
    json_t *ids = pick(meta, "integration_ids", JSON_ARRAY);
    json_t *types = pick(meta, "integration_types", JSON_ARRAY);
    json_t *first_id =
        json_array_size(ids) ? json_deep_copy(json_array_get(ids, 0)) : json_integer(0);
    json_t *first_type =
        json_array_size(types) ? json_deep_copy(json_array_get(types, 0)) : json_string("");
    int failed = 0;
    json_t *v = jb_check(json_object(), &failed);
    jb_set(v, "incident_id", pick_str(doc, "incident_id"), &failed);
    jb_set(v, "account_id", json_integer(0), &failed);
    jb_set(v, "channel_id", pick_int(doc, "channel_id"), &failed);
    jb_set(v, "integration_id", first_id, &failed);
    jb_set(v, "integration_ids", ids, &failed);
    jb_set(v, "integration_type", first_type, &failed);
    jb_set(v, "integration_types", types, &failed);
    jb_set(v, "dedup_key", json_string(""), &failed);
    jb_set(v, "equals_md5", json_string(""), &failed);
    static const char *const times[] = {"start_time", "end_time",   "last_time",  "ack_time",
                                        "close_time", "created_at", "updated_at", "snoozed_before"};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        jb_set(v, times[i], pick_int(doc, times[i]), &failed);
    jb_set(v, "creator_id", pick_int(meta, "creator_id"), &failed);
    jb_set(v, "closer_id", pick_int(meta, "closer_id"), &failed);
    jb_set(v, "owner_id", pick_int(meta, "owner_id"), &failed);
    static const char *const texts[] = {"incident_status", "incident_severity", "progress",
                                        "title",           "description",       "impact",
                                        "root_cause",      "resolution",        "detail_url"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        jb_set(v, texts[i], pick_str(doc, texts[i]), &failed);
    jb_set(v, "ai_summary", json_string(""), &failed);
    jb_set(v, "num", json_string(num), &failed);
    jb_set(v, "group_method",
           json_is_string(json_object_get(doc, "group_method")) ? pick_str(doc, "group_method")
                                                                : json_string("n"),
           &failed);
    jb_set(v, "ever_muted", json_false(), &failed);
    jb_set(v, "labels", pick(doc, "labels", JSON_OBJECT), &failed);
    jb_set(v, "fields", pick(doc, "fields", JSON_OBJECT), &failed);
    jb_set(v, "assigned_to", pick(meta, "assigned_to", JSON_OBJECT), &failed);
    jb_set(v, "alert_cnt", pick_int(doc, "alert_cnt"), &failed);
    jb_set(v, "active_alert_cnt", pick_int(meta, "active_alert_cnt"), &failed);
    jb_set(v, "alert_event_cnt", pick_int(meta, "alert_event_cnt"), &failed);
    jb_set(v, "responders", responders, &failed);
    jb_set(v, "account_name", json_string(VIEW_ACCOUNT_NAME), &failed);
    jb_set(v, "account_locale", json_string(VIEW_ACCOUNT_LOCALE), &failed);
    jb_set(v, "account_time_zone", json_string(VIEW_ACCOUNT_TIME_ZONE), &failed);
    jb_set(v, "channel_name", ch_name, &failed);
    jb_set(v, "channel_status", ch_status, &failed);
    jb_set(v, "silence_url", json_string(""), &failed);
    jb_set(v, "post_mortem_id", json_string(""), &failed);
    jb_set(v, "images", pick(doc, "images", JSON_ARRAY), &failed);
    jb_set(v, "manual_overrides", incident_view_overrides(meta), &failed);
    if (json_is_object(json_object_get(doc, "creator")))
        jb_set_ref(v, "creator", json_object_get(doc, "creator"), &failed);
    if (json_is_object(json_object_get(doc, "closer")))
        jb_set_ref(v, "closer", json_object_get(doc, "closer"), &failed);
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
