/* render.c: see render.h. The member order of each object follows the
 * order in which tocsin has always built them, so bodies do not change
 * shape across versions. */
#include "core/render.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void render_person(jw *w, const tc_person *p) {
    jw_object_begin(w);
    jw_kint(w, "person_id", p->person_id);
    jw_kstring(w, "person_name", p->person_name);
    jw_kstring(w, "email", p->email);
    jw_object_end(w);
}

void render_incident_num(const char *incident_id, char *out) {
    size_t n = strlen(incident_id);
    const char *tail = n > 6 ? incident_id + n - 6 : incident_id;
    size_t i = 0;
    for (; tail[i] && i < 6; i++)
        out[i] = (char)toupper((unsigned char)tail[i]);
    out[i] = '\0';
}

int64_t render_incident_source(const char *integration_ids) {
    const char *p = integration_ids ? strchr(integration_ids, '[') : NULL;
    return p ? strtoll(p + 1, NULL, 10) : 0; /* "[]" reads as 0 */
}

/* responder_ids: the person_id of each responder, in their order, read
 * from the column's compact text without parsing it (no allocation, so
 * rendering cannot half-fail). Responders are objects of known numbers and
 * strings (incident_responder_add); "person_id": appears only as their key,
 * because a string value holding it would have its quotes escaped. */
static void render_responder_ids(jw *w, const char *responders) {
    static const char key[] = "\"person_id\":";
    jw_key(w, "responder_ids");
    jw_array_begin(w);
    for (const char *p = responders ? strstr(responders, key) : NULL; p; p = strstr(p, key)) {
        p += sizeof(key) - 1;
        jw_int(w, strtoll(p, NULL, 10));
    }
    jw_array_end(w);
}

void render_incident(jw *w, const tc_incident *inc, const render_incident_ctx *ctx) {
    char url[1400];
    snprintf(url, sizeof(url), "%s/#/incidents/%s", ctx->base_url ? ctx->base_url : "",
             inc->incident_id);
    char method[2] = {inc->group_method ? inc->group_method : 'n', '\0'};
    char num[7];
    render_incident_num(inc->incident_id, num);
    jw_object_begin(w);
    jw_kstring(w, "incident_id", inc->incident_id);
    jw_kstring(w, "title", inc->title);
    jw_kstring(w, "description", inc->description);
    jw_kstring(w, "impact", inc->impact);
    jw_kstring(w, "root_cause", inc->root_cause);
    jw_kstring(w, "resolution", inc->resolution);
    jw_kstring(w, "incident_severity", model_rank_name(inc->severity));
    jw_kstring(w, "incident_status", model_rank_name(inc->status));
    jw_kstring(w, "progress", model_progress_name(inc->progress));
    jw_kint(w, "created_at", inc->created_at);
    jw_kint(w, "updated_at", inc->updated_at);
    jw_kint(w, "start_time", inc->start_time);
    jw_kint(w, "last_time", inc->last_time);
    jw_kint(w, "end_time", inc->end_time);
    jw_kint(w, "ack_time", inc->ack_time);
    jw_kint(w, "close_time", inc->close_time);
    jw_kint(w, "snoozed_before", inc->snoozed_before);
    jw_kraw(w, "fields", inc->fields, "{}");
    jw_kraw(w, "responders", inc->responders, "[]");
    render_responder_ids(w, inc->responders);
    jw_kraw(w, "assigned_to", inc->assigned_to, "{}");
    jw_kint(w, "alert_cnt", inc->alert_cnt);
    jw_kint(w, "channel_id", inc->channel_id);
    jw_kstring(w, "channel_name", ctx->channel_name);
    jw_kstring(w, "detail_url", url);
    jw_kstring(w, "group_method", method);
    /* The fields of Flashduty's sample bodies that its table leaves out. */
    jw_kstring(w, "num", num);
    jw_kint(w, "creator_id", inc->creator_id);
    jw_kint(w, "data_source_id", render_incident_source(inc->integration_ids));
    jw_kstring(w, "dedup_key", ctx->dedup_key ? ctx->dedup_key : "");
    jw_kstring(w, "equals_md5", ctx->equals_md5 ? ctx->equals_md5 : "");
    jw_kint(w, "account_id", 0);
    jw_kstring(w, "account_name", RENDER_ACCOUNT_NAME);
    if (inc->labels)
        jw_kraw(w, "labels", inc->labels, "{}");
    if (inc->creator)
        jw_kraw(w, "creator", inc->creator, "{}");
    if (inc->closer)
        jw_kraw(w, "closer", inc->closer, "{}");
    jw_object_end(w);
}

void render_alert(jw *w, const tc_alert *a, const render_alert_ctx *ctx) {
    jw_object_begin(w);
    jw_kstring(w, "alert_id", a->alert_id);
    jw_kint(w, "data_source_id", a->integration_id);
    jw_kstring(w, "data_source_name", ctx->source_name);
    jw_kstring(w, "data_source_type", ctx->source_type);
    jw_kint(w, "channel_id", a->channel_id);
    jw_kstring(w, "channel_name", ctx->channel_name);
    jw_kstring(w, "title", a->title);
    jw_kstring(w, "title_rule", a->title_rule);
    jw_kstring(w, "description", a->description);
    jw_kstring(w, "alert_key", a->alert_key);
    jw_kstring(w, "alert_severity", model_rank_name(a->severity));
    jw_kstring(w, "alert_status", model_rank_name(a->status));
    jw_kstring(w, "progress", model_progress_name(a->progress));
    jw_kint(w, "created_at", a->created_at);
    jw_kint(w, "updated_at", a->updated_at);
    jw_kint(w, "start_time", a->start_time);
    jw_kint(w, "last_time", a->last_time);
    jw_kint(w, "end_time", a->end_time);
    jw_kint(w, "close_time", a->close_time);
    jw_kraw(w, "labels", a->labels, "{}");
    jw_kraw(w, "images", a->images, "[]");
    jw_kint(w, "event_cnt", a->event_cnt);
    /* Sample-only fields: tocsin integrations have no reference id (as the
     * Open API's integration_ref_id), and an alert dedupes on its key. */
    jw_kstring(w, "data_source_ref_id", "");
    jw_kstring(w, "dedup_key", a->alert_key);
    if (a->incident_id[0]) {
        jw_key(w, "incident");
        jw_object_begin(w);
        jw_kstring(w, "incident_id", a->incident_id);
        jw_kstring(w, "title", ctx->incident_title);
        jw_object_end(w);
    }
    jw_object_end(w);
}

void render_body_begin(jw *w, int64_t event_time_ms, const char *event_type, const char *event_id,
                       const char *kind) {
    jw_object_begin(w);
    jw_kint(w, "event_time", event_time_ms);
    jw_kstring(w, "event_type", event_type);
    jw_kstring(w, "event_id", event_id);
    jw_key(w, kind);
}

void render_body_end(jw *w, const tc_person *person) {
    if (person && person->person_id) {
        jw_key(w, "person");
        render_person(w, person);
    }
    jw_object_end(w);
}

const char *render_source_type(const char *integration_type) {
    return strncmp(integration_type, "alert_", 6) == 0 ? integration_type + 6 : integration_type;
}
