/* channel_rules.c: see channel_rules.h. */
#include "core/channel_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jbuild.h"

static const char *const kind_names[RULE_KINDS] = {"drop", "silence", "inhibit"};

const char *rule_kind_name(rule_kind k) {
    return k < RULE_KINDS ? kind_names[k] : "?";
}

static int read_discard(json_t *body, chan_rule *r, tc_err *err) {
    json_t *d = json_object_get(body, "is_directly_discard");
    if (d && !json_is_null(d) && !json_is_boolean(d))
        return tc_err_set(err, TC_INVALID_PARAMETER, "is_directly_discard must be a boolean");
    r->discard = json_is_true(d);
    return 0;
}

static int read_equals(json_t *body, chan_rule *r, tc_err *err) {
    json_t *eq = json_object_get(body, "equals");
    if (!json_is_array(eq) || json_array_size(eq) < 1 || json_array_size(eq) > RULE_EQUALS_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "equals must be an array of 1 to %d fields (labels.<name> or an"
                          " attribute)",
                          RULE_EQUALS_MAX);
    size_t i;
    json_t *k;
    json_array_foreach(eq, i, k) {
        char path[32];
        snprintf(path, sizeof(path), "equals[%zu]", i);
        if (!json_is_string(k))
            return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be a string", path);
        if (rule_filter_check_key(json_string_value(k), path, err) != 0)
            return -1;
        if (!(r->equals[i] = strdup(json_string_value(k))))
            return tc_err_oom(err, "an inhibit rule");
        r->nequals = (int)i + 1;
    }
    return 0;
}

/* Each field given, of the type the reference gives it, before any is
 * required: a request broken in one field is told about that field. */
static int check_types(json_t *body, tc_err *err) {
    static const char *const arrays[] = {"filters", "source_filters", "target_filters",
                                         "equals",  "time_filters",   NULL};
    for (int i = 0; arrays[i]; i++) {
        json_t *v = json_object_get(body, arrays[i]);
        if (v && !json_is_null(v) && !json_is_array(v))
            return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be an array", arrays[i]);
    }
    json_t *tf = json_object_get(body, "time_filter");
    if (tf && !json_is_null(tf) && !json_is_object(tf))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filter must be an object {start_time, end_time}");
    return 0;
}

int chan_rule_compile(rule_kind kind, json_t *body, chan_rule *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    if (check_types(body, err) != 0)
        return -1;
    int rc;
    switch (kind) {
    case RULE_DROP:
        rc = rule_filter_compile(json_object_get(body, "filters"), "filters", &out->filters, err);
        break;
    case RULE_SILENCE:
        rc = read_discard(body, out, err) != 0 ||
                     rule_filter_compile(json_object_get(body, "filters"), "filters", &out->filters,
                                         err) != 0 ||
                     rule_window_read(body, &out->window, err) != 0
                 ? -1
                 : 0;
        break;
    default:
        rc = read_discard(body, out, err) != 0 || read_equals(body, out, err) != 0 ||
                     rule_filter_compile(json_object_get(body, "source_filters"), "source_filters",
                                         &out->source, err) != 0 ||
                     rule_filter_compile(json_object_get(body, "target_filters"), "target_filters",
                                         &out->target, err) != 0
                 ? -1
                 : 0;
        break;
    }
    if (rc != 0)
        chan_rule_clear(out);
    return rc;
}

void chan_rule_clear(chan_rule *r) {
    rule_filter_free(r->filters);
    rule_filter_free(r->source);
    rule_filter_free(r->target);
    free(r->rule_name);
    for (int i = 0; i < r->nequals; i++)
        free(r->equals[i]);
    memset(r, 0, sizeof(*r));
}

static void copy_field(json_t *from, json_t *to, const char *field, int *failed) {
    json_t *v = json_object_get(from, field);
    if (v && !json_is_null(v))
        jb_set(to, field, jb_copy(v), failed);
}

char *chan_rule_body(rule_kind kind, json_t *request) {
    json_t *b = json_object();
    if (!b)
        return NULL;
    int failed = 0;
    if (kind == RULE_INHIBIT) {
        copy_field(request, b, "source_filters", &failed);
        copy_field(request, b, "target_filters", &failed);
        copy_field(request, b, "equals", &failed);
    } else {
        copy_field(request, b, "filters", &failed);
    }
    if (kind == RULE_SILENCE) {
        json_t *tfs = json_object_get(request, "time_filters");
        if (json_is_array(tfs) && json_array_size(tfs) > 0)
            copy_field(request, b, "time_filters", &failed);
        else
            copy_field(request, b, "time_filter", &failed);
    }
    if (kind != RULE_DROP)
        jb_set(b, "is_directly_discard",
               json_boolean(json_is_true(json_object_get(request, "is_directly_discard"))),
               &failed);
    char *text = failed ? NULL : jb_dumps(b, JSON_COMPACT);
    json_decref(b);
    return text;
}

void chan_rules_clear(chan_rules *rs) {
    for (int k = 0; k < RULE_KINDS; k++) {
        for (size_t i = 0; i < rs->n[k]; i++)
            chan_rule_clear(&rs->of[k][i]);
        free(rs->of[k]);
    }
    memset(rs, 0, sizeof(*rs));
}

int chan_rules_add(chan_rules *rs, chan_rule *r, tc_err *err) {
    rule_kind k = r->kind;
    if (rs->n[k] == rs->cap[k]) {
        size_t cap = rs->cap[k] ? rs->cap[k] * 2 : 4;
        chan_rule *grown = realloc(rs->of[k], cap * sizeof(*grown));
        if (!grown)
            return tc_err_oom(err, "a channel's rules");
        rs->of[k] = grown;
        rs->cap[k] = cap;
    }
    rs->of[k][rs->n[k]++] = *r;
    memset(r, 0, sizeof(*r));
    return 0;
}

const chan_rule *chan_rules_drop(const chan_rules *rs, const rule_subject *s) {
    for (size_t i = 0; i < rs->n[RULE_DROP]; i++) {
        if (rule_filter_match(rs->of[RULE_DROP][i].filters, s, 0))
            return &rs->of[RULE_DROP][i];
    }
    return NULL;
}

const chan_rule *chan_rules_silence(const chan_rules *rs, const rule_subject *s, int64_t now) {
    for (size_t i = 0; i < rs->n[RULE_SILENCE]; i++) {
        const chan_rule *r = &rs->of[RULE_SILENCE][i];
        /* The filter first: a window may cost a localtime_r, a filter that
         * fails on its first condition costs less. */
        if (rule_filter_match(r->filters, s, 0) && rule_window_active(&r->window, now))
            return r;
    }
    return NULL;
}

static int same_value(const char *a, const char *b) {
    return a && b ? strcmp(a, b) == 0 : a == b;
}

int chan_rule_inhibits(const chan_rule *r, const rule_subject *t, const rule_subject *src) {
    for (int i = 0; i < r->nequals; i++) {
        char b1[24], b2[24];
        if (!same_value(rule_subject_value(t, r->equals[i], b1),
                        rule_subject_value(src, r->equals[i], b2)))
            return 0;
    }
    return rule_filter_match(r->source, src, 1);
}
