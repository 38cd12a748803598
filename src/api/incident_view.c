/* incident_view.c: see incident_view.h. */
#include "api/incident_view.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/channel.h"
#include "core/incident_actions.h"

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
    json_object_foreach(json_object_get(meta, "pins"), key, v) {
        if (json_is_true(v))
            json_array_append_new(out, json_string(key));
    }
    return out;
}

/* A copy of doc[key] when it has the wanted type, else the fallback
 * (stolen). Keeps every required field typed even for old or odd docs. */
static json_t *pick(json_t *doc, const char *key, json_type type, json_t *fallback) {
    json_t *v = json_object_get(doc, key);
    if (v && json_typeof(v) == type) {
        json_decref(fallback);
        return json_deep_copy(v);
    }
    if (type == JSON_INTEGER && json_is_real(v)) {
        json_decref(fallback);
        return json_integer((json_int_t)json_real_value(v));
    }
    return fallback;
}

static json_t *pick_str(json_t *doc, const char *key) {
    return pick(doc, key, JSON_STRING, json_string(""));
}

static json_t *pick_int(json_t *doc, const char *key) {
    return pick(doc, key, JSON_INTEGER, json_integer(0));
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
        json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:o, s:o}", "person_id",
                                              (json_int_t)id, "person_name", p.person_name, "email",
                                              p.email, "assigned_at", pick_int(r, "assigned_at"),
                                              "acknowledged_at", pick_int(r, "acknowledged_at")));
    }
    *out = list;
    return 0;
}

/* The channel's current name and status; a standalone incident has none. */
static int channel_facts(store_conn *c, json_t *doc, json_t **name, json_t **status, tc_err *err) {
    int64_t channel_id = json_integer_value(json_object_get(doc, "channel_id"));
    *name = pick_str(doc, "channel_name");
    *status = json_string("");
    if (channel_id == 0)
        return 0;
    json_t *ch = NULL;
    if (channel_load(c, channel_id, &ch, err) != 0) {
        if (err->code == TC_INVALID_PARAMETER)
            return 0; /* the channel is gone: keep what the incident recorded */
        json_decref(*name);
        json_decref(*status);
        return -1;
    }
    json_decref(*name);
    json_decref(*status);
    *name = pick_str(ch, "channel_name");
    *status = pick_str(ch, "status");
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
    json_t *ids = pick(meta, "integration_ids", JSON_ARRAY, json_array());
    json_t *types = pick(meta, "integration_types", JSON_ARRAY, json_array());
    json_t *first_id =
        json_array_size(ids) ? json_deep_copy(json_array_get(ids, 0)) : json_integer(0);
    json_t *first_type =
        json_array_size(types) ? json_deep_copy(json_array_get(types, 0)) : json_string("");
    json_t *v = json_object();
    json_object_set_new(v, "incident_id", pick_str(doc, "incident_id"));
    json_object_set_new(v, "account_id", json_integer(0));
    json_object_set_new(v, "channel_id", pick_int(doc, "channel_id"));
    json_object_set_new(v, "integration_id", first_id);
    json_object_set_new(v, "integration_ids", ids);
    json_object_set_new(v, "integration_type", first_type);
    json_object_set_new(v, "integration_types", types);
    json_object_set_new(v, "dedup_key", json_string(""));
    json_object_set_new(v, "equals_md5", json_string(""));
    static const char *const times[] = {"start_time", "end_time",   "last_time",  "ack_time",
                                        "close_time", "created_at", "updated_at", "snoozed_before"};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        json_object_set_new(v, times[i], pick_int(doc, times[i]));
    json_object_set_new(v, "creator_id", pick_int(meta, "creator_id"));
    json_object_set_new(v, "closer_id", pick_int(meta, "closer_id"));
    json_object_set_new(v, "owner_id", pick_int(meta, "owner_id"));
    static const char *const texts[] = {"incident_status", "incident_severity", "progress",
                                        "title",           "description",       "impact",
                                        "root_cause",      "resolution",        "detail_url"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        json_object_set_new(v, texts[i], pick_str(doc, texts[i]));
    json_object_set_new(v, "ai_summary", json_string(""));
    json_object_set_new(v, "num", json_string(num));
    json_object_set_new(v, "group_method",
                        pick(doc, "group_method", JSON_STRING, json_string("n")));
    json_object_set_new(v, "ever_muted", json_false());
    json_object_set_new(v, "labels", pick(doc, "labels", JSON_OBJECT, json_object()));
    json_object_set_new(v, "fields", pick(doc, "fields", JSON_OBJECT, json_object()));
    json_object_set_new(v, "assigned_to", pick(meta, "assigned_to", JSON_OBJECT, json_object()));
    json_object_set_new(v, "alert_cnt", pick_int(doc, "alert_cnt"));
    json_object_set_new(v, "active_alert_cnt", pick_int(meta, "active_alert_cnt"));
    json_object_set_new(v, "alert_event_cnt", pick_int(meta, "alert_event_cnt"));
    json_object_set_new(v, "responders", responders);
    json_object_set_new(v, "account_name", json_string(VIEW_ACCOUNT_NAME));
    json_object_set_new(v, "account_locale", json_string(VIEW_ACCOUNT_LOCALE));
    json_object_set_new(v, "account_time_zone", json_string(VIEW_ACCOUNT_TIME_ZONE));
    json_object_set_new(v, "channel_name", ch_name);
    json_object_set_new(v, "channel_status", ch_status);
    json_object_set_new(v, "silence_url", json_string(""));
    json_object_set_new(v, "post_mortem_id", json_string(""));
    json_object_set_new(v, "images", pick(doc, "images", JSON_ARRAY, json_array()));
    json_object_set_new(v, "manual_overrides", incident_view_overrides(meta));
    if (json_is_object(json_object_get(doc, "creator")))
        json_object_set(v, "creator", json_object_get(doc, "creator"));
    if (json_is_object(json_object_get(doc, "closer")))
        json_object_set(v, "closer", json_object_get(doc, "closer"));
    *out = v;
    return 0;
}

json_t *incident_view_feed_item(const char *incident_id, const char *type, int64_t creator_id,
                                int64_t created_at_ms, const char *detail_text) {
    json_t *detail = json_loads(detail_text, 0, NULL);
    if (!json_is_object(detail)) {
        json_decref(detail);
        detail = json_object();
    }
    return json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I}", "ref_id", incident_id, "type", type,
                     "detail", detail, "account_id", (json_int_t)0, "creator_id",
                     (json_int_t)creator_id, "created_at", (json_int_t)created_at_ms, "updated_at",
                     (json_int_t)created_at_ms);
}
