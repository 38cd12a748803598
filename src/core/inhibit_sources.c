/* inhibit_sources.c: see inhibit_sources.h. A plain array: it holds only
 * the last ten minutes of alerts of channels with inhibit rules, searched
 * only when an event matched some rule's target filters. */
#include "core/inhibit_sources.h"

#include <stdlib.h>
#include <string.h>

#include "util/jbuild.h"

struct inhibit_sources {
    inhibit_source *e;
    size_t n, cap;
    int stale;
};

inhibit_sources *inhibit_sources_new(void) {
    inhibit_sources *l = calloc(1, sizeof(*l));
    if (l)
        l->stale = 1;
    return l;
}

static void entry_clear(inhibit_source *e) {
    free((char *)e->subject.title);
    free((char *)e->subject.description);
    free((char *)e->subject.alert_key);
    json_decref(e->subject.labels);
    memset(e, 0, sizeof(*e));
}

void inhibit_sources_invalidate(inhibit_sources *l) {
    for (size_t i = 0; i < l->n; i++)
        entry_clear(&l->e[i]);
    l->n = 0;
    l->stale = 1;
}

void inhibit_sources_free(inhibit_sources *l) {
    if (!l)
        return;
    inhibit_sources_invalidate(l);
    free(l->e);
    free(l);
}

int inhibit_sources_stale(const inhibit_sources *l) {
    return l->stale;
}

void inhibit_sources_fresh(inhibit_sources *l) {
    l->stale = 0;
}

static void remove_at(inhibit_sources *l, size_t i) {
    entry_clear(&l->e[i]);
    l->e[i] = l->e[--l->n];
}

static int entry_fill(inhibit_source *e, const tc_alert *a, tc_err *err) {
    memcpy(e->alert_id, a->alert_id, sizeof(e->alert_id));
    e->channel_id = a->channel_id;
    e->last_time = a->last_time;
    e->subject.severity = model_rank_name(a->severity);
    e->subject.data_source_id = a->integration_id;
    e->subject.title = strdup(a->title ? a->title : "");
    e->subject.description = strdup(a->description ? a->description : "");
    e->subject.alert_key = strdup(a->alert_key ? a->alert_key : "");
    const char *labels = a->labels ? a->labels : "{}";
    e->subject.labels = jb_loadb(labels, strlen(labels), 0, NULL, NULL);
    if (!e->subject.title || !e->subject.description || !e->subject.alert_key ||
        !json_is_object(e->subject.labels)) {
        entry_clear(e);
        return tc_err_oom(err, "an inhibit source");
    }
    return 0;
}

int inhibit_sources_note(inhibit_sources *l, const tc_alert *a, tc_err *err) {
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->e[i].alert_id, a->alert_id) == 0) {
            remove_at(l, i);
            break;
        }
    }
    if (a->progress != PROGRESS_TRIGGERED)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        inhibit_source *grown = realloc(l->e, cap * sizeof(*grown));
        if (!grown)
            return tc_err_oom(err, "the inhibit sources");
        l->e = grown;
        l->cap = cap;
    }
    if (entry_fill(&l->e[l->n], a, err) != 0)
        return -1;
    l->n++;
    return 0;
}

void inhibit_sources_prune(inhibit_sources *l, int64_t since) {
    for (size_t i = 0; i < l->n;) {
        if (l->e[i].last_time < since)
            remove_at(l, i);
        else
            i++;
    }
}

size_t inhibit_sources_count(inhibit_sources *l) {
    return l->n;
}

const inhibit_source *inhibit_sources_at(inhibit_sources *l, size_t i) {
    return &l->e[i];
}
