/* model.c: see model.h. */
#include "core/model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rank_names[] = {"Ok", "Info", "Warning", "Critical"};
static const char *const progress_names[] = {"Triggered", "Processing", "Closed"};

const char *model_rank_name(int rank) {
    return rank_names[rank < 0 ? 0 : rank > 3 ? 3 : rank];
}

int model_rank_parse(const char *name) {
    for (int i = 0; name && i < 4; i++) {
        if (strcmp(name, rank_names[i]) == 0)
            return i;
    }
    return -1;
}

const char *model_progress_name(int progress) {
    return progress_names[progress < 0 ? 0 : progress > 2 ? 2 : progress];
}

int model_progress_parse(const char *name) {
    for (int i = 0; name && i < 3; i++) {
        if (strcmp(name, progress_names[i]) == 0)
            return i;
    }
    return -1;
}

int model_set_str(char **field, const char *value) {
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return -1;
    free(*field);
    *field = copy;
    return 0;
}

void tc_alert_init(tc_alert *a) {
    memset(a, 0, sizeof(*a));
}

void tc_alert_clear(tc_alert *a) {
    free(a->alert_key);
    free(a->title);
    free(a->title_rule);
    free(a->description);
    free(a->labels);
    free(a->images);
    free(a->lanes);
    free(a->new_detail);
    tc_alert_init(a);
}

void tc_incident_init(tc_incident *inc) {
    memset(inc, 0, sizeof(*inc));
    inc->group_method = 'n';
}

/* Calls fn on the address of every string an incident owns: clear and
 * copy walk the same list. */
static void each_incident_string(tc_incident *inc, void (*fn)(char **field, void *arg), void *arg) {
    char **fields[] = {&inc->title,
                       &inc->description,
                       &inc->impact,
                       &inc->root_cause,
                       &inc->resolution,
                       &inc->creator,
                       &inc->closer,
                       &inc->pins,
                       &inc->storm_fired,
                       &inc->integration_ids,
                       &inc->integration_types,
                       &inc->labels,
                       &inc->fields,
                       &inc->responders,
                       &inc->assigned_to,
                       &inc->group_keys,
                       &inc->lanes,
                       &inc->new_detail};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        fn(fields[i], arg);
}

static void free_field(char **field, void *arg) {
    (void)arg;
    free(*field);
    *field = NULL;
}

void tc_incident_clear(tc_incident *inc) {
    each_incident_string(inc, free_field, NULL);
    tc_incident_init(inc);
}

/* After a struct copy: each string copied in turn (*failed on the first
 * that cannot be; the rest are set NULL so clearing frees only copies). */
static void dup_field(char **field, void *arg) {
    int *failed = arg;
    if (*field && !*failed) {
        char *copy = strdup(*field);
        if (!copy)
            *failed = 1;
        *field = copy;
    } else {
        *field = NULL;
    }
}

int tc_incident_copy(tc_incident *dst, const tc_incident *src, tc_err *err) {
    tc_incident_clear(dst);
    *dst = *src;
    int failed = 0;
    each_incident_string(dst, dup_field, &failed);
    if (failed) {
        tc_incident_clear(dst);
        return tc_err_oom(err, "an incident");
    }
    return 0;
}

int tc_alert_copy(tc_alert *dst, const tc_alert *src, tc_err *err) {
    tc_alert_clear(dst);
    *dst = *src;
    int failed = 0;
#define COPY_FIELD(f)                                                                              \
    dst->f = NULL;                                                                                 \
    if (src->f && !(dst->f = strdup(src->f)))                                                      \
        failed = 1;
    COPY_FIELD(alert_key)
    COPY_FIELD(title)
    COPY_FIELD(title_rule)
    COPY_FIELD(description)
    COPY_FIELD(labels)
    COPY_FIELD(images)
    COPY_FIELD(lanes)
    COPY_FIELD(new_detail)
#undef COPY_FIELD
    if (failed) {
        tc_alert_clear(dst);
        return tc_err_oom(err, "an alert");
    }
    return 0;
}

int model_incident_pinned(const tc_incident *inc, const char *key) {
    /* pins is written by tocsin only, as {"key":true,...}: a plain search
     * for the quoted key followed by :true is exact. */
    if (!inc->pins)
        return 0;
    char needle[64];
    snprintf(needle, sizeof(needle), "\"%s\":true", key);
    return strstr(inc->pins, needle) != NULL;
}
