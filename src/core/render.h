/* render.h: the webhook objects and bodies of reference/webhooks.md,
 * written from the stored columns (core/model.h) with the hot path's JSON
 * writer (util/jw.h).
 *
 * Names are rendered as they are now (the integration's and channel's
 * current names), and an alert's `incident.title` is its incident's current
 * title. The members come in a fixed order; receivers read them by name. */
#ifndef TOCSIN_RENDER_H
#define TOCSIN_RENDER_H

#include <stdint.h>

#include "core/events.h"
#include "core/model.h"
#include "util/jw.h"

/* account_name of every incident: tocsin is one account per installation
 * (account_id 0). */
#define RENDER_ACCOUNT_NAME "tocsin"

/* What an object's rendering needs besides its own columns. */
typedef struct {
    const char *base_url;     /* detail_url prefix */
    const char *channel_name; /* "" when unknown */
    const char *dedup_key;    /* group_incident_digests; NULL: "" */
    const char *equals_md5;   /* group_incident_digests; NULL: "" */
} render_incident_ctx;

typedef struct {
    const char *source_name;    /* data_source_name */
    const char *source_type;    /* data_source_type: "standard", "prometheus" */
    const char *channel_name;   /* "" when unknown */
    const char *incident_title; /* "" when it has no incident */
} render_alert_ctx;

/* The incident's short number `num` (the console shows it): the last six
 * characters of its id, upper case. Not guaranteed unique, as the Open API
 * says. out holds 7 bytes. */
void render_incident_num(const char *incident_id, char *out);
/* data_source_id of an incident: the first of its integration_ids (JSON
 * array text), 0 when it has none (a hand-made incident). */
int64_t render_incident_source(const char *integration_ids);

/* The Incident object (without `alerts`). */
void render_incident(jw *w, const tc_incident *inc, const render_incident_ctx *ctx);
/* The Alert object. */
void render_alert(jw *w, const tc_alert *a, const render_alert_ctx *ctx);
/* The Person object, or nothing for nobody. */
void render_person(jw *w, const tc_person *p);

/* Begins a default body: {"event_time":T,"event_type":X,"event_id":I,"<kind>":
 * — the caller renders the object next, then calls render_body_end. */
void render_body_begin(jw *w, int64_t event_time_ms, const char *event_type, const char *event_id,
                       const char *kind);
/* Ends it: [,"person":P]} (nothing for nobody). */
void render_body_end(jw *w, const tc_person *person);

/* data_source_type of an alert source type: "alert_standard" -> "standard". */
const char *render_source_type(const char *integration_type);

#endif
