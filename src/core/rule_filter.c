/* rule_filter.c: see rule_filter.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/rule_filter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

typedef enum {
    FIELD_SEVERITY,
    FIELD_TITLE,
    FIELD_DESCRIPTION,
    FIELD_SOURCE,
    FIELD_KEY,
    FIELD_LABEL
} field_kind;
typedef enum { VAL_EXACT, VAL_WILDCARD, VAL_EXISTS, VAL_REGEX, VAL_CIDR, VAL_NUM } val_kind;
typedef enum { NUM_GT, NUM_GE, NUM_LT, NUM_LE } num_op;

typedef struct {
    val_kind kind;
    char *text; /* exact value or wildcard pattern */
    pcre2_code *re;
    pcre2_match_data *md;
    int family; /* AF_INET | AF_INET6 */
    unsigned char addr[16];
    int prefix;
    num_op op;
    double num;
} cond_val;

typedef struct {
    field_kind field;
    char *label; /* FIELD_LABEL: its name */
    int notin;
    cond_val *vals;
    size_t nvals;
} condition;

typedef struct {
    condition *conds;
    size_t nconds;
} cond_group;

struct rule_filter {
    cond_group *groups;
    size_t ngroups;
};

/* ---- keys ---------------------------------------------------------------- */

static const char *const label_aliases[] = {"check", "resource", "service", "cluster", NULL};

static int key_parse(const char *key, field_kind *field, const char **label) {
    *label = NULL;
    if (!strcmp(key, "severity") || !strcmp(key, "alert_severity") ||
        !strcmp(key, "incident_severity"))
        *field = FIELD_SEVERITY;
    else if (!strcmp(key, "title"))
        *field = FIELD_TITLE;
    else if (!strcmp(key, "description"))
        *field = FIELD_DESCRIPTION;
    else if (!strcmp(key, "data_source_id"))
        *field = FIELD_SOURCE;
    else if (!strcmp(key, "alert_key"))
        *field = FIELD_KEY;
    else if (!strncmp(key, "labels.", 7) && key[7]) {
        *field = FIELD_LABEL;
        *label = key + 7;
    } else {
        for (int i = 0; label_aliases[i]; i++) {
            if (!strcmp(key, label_aliases[i])) {
                *field = FIELD_LABEL;
                *label = key;
                return 0;
            }
        }
        return -1;
    }
    return 0;
}

int rule_filter_check_key(const char *key, const char *path, tc_err *err) {
    field_kind f;
    const char *label;
    if (!key || key_parse(key, &f, &label) != 0 || utf8_len(key) > 7 + 128)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "%s must be severity, title, description, data_source_id, alert_key,"
                          " check, resource, service, cluster or labels.<name>",
                          path);
    return 0;
}

static const char *field_value(const rule_subject *s, field_kind f, const char *label,
                               char buf[24]) {
    switch (f) {
    case FIELD_SEVERITY:
        return s->severity;
    case FIELD_TITLE:
        return s->title;
    case FIELD_DESCRIPTION:
        return s->description;
    case FIELD_SOURCE:
        snprintf(buf, 24, "%lld", (long long)s->data_source_id);
        return buf;
    case FIELD_KEY:
        return s->alert_key;
    default:
        return s->labels ? json_string_value(json_object_get(s->labels, label)) : NULL;
    }
}

const char *rule_subject_value(const rule_subject *s, const char *key, char buf[24]) {
    field_kind f;
    const char *label;
    if (key_parse(key, &f, &label) != 0)
        return NULL;
    return field_value(s, f, label, buf);
}

/* ---- values ---------------------------------------------------------------- */

static int compile_regex(cond_val *v, const char *s, size_t len, const char *path, tc_err *err) {
    int code = 0;
    PCRE2_SIZE off = 0;
    v->re = pcre2_compile((PCRE2_SPTR)s + 1, len - 2, PCRE2_UTF, &code, &off, NULL);
    if (!v->re && code == PCRE2_ERROR_NOMEMORY)
        return tc_err_oom(err, "a regular expression");
    if (!v->re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", code);
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "%s is not a valid regular expression: %s at offset %zu", path,
                          (const char *)msg, (size_t)off);
    }
    (void)pcre2_jit_compile(v->re, PCRE2_JIT_COMPLETE); /* an optimisation: may be absent */
    v->md = pcre2_match_data_create_from_pattern(v->re, NULL);
    if (!v->md)
        return tc_err_oom(err, "a regular expression");
    v->kind = VAL_REGEX;
    return 0;
}

static int compile_cidr(cond_val *v, const char *s, const char *path, tc_err *err) {
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    char *end = NULL;
    long prefix = -1;
    if (slash) {
        errno = 0;
        prefix = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || errno)
            prefix = -2;
    }
    if (alen == 0 || alen >= sizeof(addr))
        goto bad;
    memcpy(addr, s, alen);
    addr[alen] = 0;
    if (inet_pton(AF_INET, addr, v->addr) == 1) {
        v->family = AF_INET;
        prefix = prefix == -1 ? 32 : prefix;
        if (prefix < 0 || prefix > 32)
            goto bad;
    } else if (inet_pton(AF_INET6, addr, v->addr) == 1) {
        v->family = AF_INET6;
        prefix = prefix == -1 ? 128 : prefix;
        if (prefix < 0 || prefix > 128)
            goto bad;
    } else {
        goto bad;
    }
    v->prefix = (int)prefix;
    v->kind = VAL_CIDR;
    return 0;
bad:
    return tc_err_set(err, TC_INVALID_PARAMETER,
                      "%s must be cidr:<IPv4 or IPv6 address>/<prefix length>", path);
}

static int compile_num(cond_val *v, const char *s, const char *path, tc_err *err) {
    static const char *const ops[] = {"gt:", "ge:", "lt:", "le:"};
    for (int i = 0; i < 4; i++) {
        if (strncmp(s, ops[i], 3) == 0) {
            char *end = NULL;
            errno = 0;
            double d = strtod(s + 3, &end);
            if (end == s + 3 || *end || errno || !isfinite(d))
                break;
            v->op = (num_op)i;
            v->num = d;
            v->kind = VAL_NUM;
            return 0;
        }
    }
    return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be num:gt|ge|lt|le:<number>", path);
}

static int compile_val(cond_val *v, json_t *j, const char *path, tc_err *err) {
    const char *s = json_string_value(j);
    if (!s)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be a string", path);
    if (utf8_len(s) > RULE_FILTER_VAL_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be at most %d characters", path,
                          RULE_FILTER_VAL_MAX);
    size_t len = strlen(s);
    if (len >= 2 && s[0] == '/' && s[len - 1] == '/')
        return compile_regex(v, s, len, path, err);
    if (strncmp(s, "cidr:", 5) == 0)
        return compile_cidr(v, s + 5, path, err);
    if (strncmp(s, "num:", 4) == 0)
        return compile_num(v, s + 4, path, err);
    if (!(v->text = strdup(s)))
        return tc_err_oom(err, "a filter value");
    v->kind = strcmp(s, "*") == 0        ? VAL_EXISTS
              : strpbrk(s, "*?") != NULL ? VAL_WILDCARD
                                         : VAL_EXACT;
    return 0;
}

static void val_clear(cond_val *v) {
    free(v->text);
    pcre2_match_data_free(v->md);
    pcre2_code_free(v->re);
}

/* ---- matching ------------------------------------------------------------- */

/* Length of the UTF-8 character starting at s (1 for a stray byte). */
static size_t char_len(const char *s) {
    unsigned char c = (unsigned char)*s;
    size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    for (size_t i = 1; i < n; i++) {
        if (!s[i])
            return i;
    }
    return n;
}

/* `*` any run of characters, `?` one character, the rest literal; the whole
 * value must match. Iterative with one backtrack point: linear-ish. */
static int wildcard_match(const char *p, const char *s) {
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = ++p;
            resume = s;
        } else if (*p == '?') {
            p++;
            s += char_len(s);
        } else if (*p && *p == *s) {
            p++;
            s++;
        } else if (star) {
            p = star;
            resume += char_len(resume);
            s = resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == 0;
}

static int cidr_match(const cond_val *v, const char *s) {
    unsigned char a[16];
    if (inet_pton(v->family, s, a) != 1)
        return 0;
    int full = v->prefix / 8, rest = v->prefix % 8;
    if (memcmp(a, v->addr, (size_t)full) != 0)
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (v->addr[full] & mask);
}

static int num_match(const cond_val *v, const char *s) {
    char *end = NULL;
    double d = strtod(s, &end);
    if (end == s || *end || !isfinite(d))
        return 0;
    switch (v->op) {
    case NUM_GT:
        return d > v->num;
    case NUM_GE:
        return d >= v->num;
    case NUM_LT:
        return d < v->num;
    default:
        return d <= v->num;
    }
}

static int val_match(const cond_val *v, const char *s, int no_cidr_num) {
    if (!s)
        return 0;
    switch (v->kind) {
    case VAL_EXACT:
        return strcmp(v->text, s) == 0;
    case VAL_EXISTS:
        return 1;
    case VAL_WILDCARD:
        return wildcard_match(v->text, s);
    case VAL_REGEX:
        return pcre2_match(v->re, (PCRE2_SPTR)s, strlen(s), 0, 0, v->md, NULL) >= 0;
    case VAL_CIDR:
        return !no_cidr_num && cidr_match(v, s);
    default:
        return !no_cidr_num && num_match(v, s);
    }
}

static int cond_match(const condition *c, const rule_subject *s, int no_cidr_num) {
    char buf[24];
    const char *value = field_value(s, c->field, c->label, buf);
    int any = 0;
    for (size_t i = 0; i < c->nvals && !any; i++)
        any = val_match(&c->vals[i], value, no_cidr_num);
    return c->notin ? !any : any;
}

int rule_filter_match(const rule_filter *f, const rule_subject *s, int no_cidr_num) {
    for (size_t g = 0; g < f->ngroups; g++) {
        const cond_group *grp = &f->groups[g];
        size_t i = 0;
        while (i < grp->nconds && cond_match(&grp->conds[i], s, no_cidr_num))
            i++;
        if (i == grp->nconds)
            return 1;
    }
    return 0;
}

/* ---- compiling ------------------------------------------------------------- */

static int compile_cond(condition *c, json_t *j, const char *path, tc_err *err) {
    char sub[160];
    if (!json_is_object(j))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be an object {key, oper, vals}",
                          path);
    json_t *key = json_object_get(j, "key"), *oper = json_object_get(j, "oper"),
           *vals = json_object_get(j, "vals");
    snprintf(sub, sizeof(sub), "%s.key", path);
    if (!json_is_string(key))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be a string", sub);
    if (rule_filter_check_key(json_string_value(key), sub, err) != 0)
        return -1;
    field_kind field;
    const char *label;
    key_parse(json_string_value(key), &field, &label);
    c->field = field;
    if (label && !(c->label = strdup(label)))
        return tc_err_oom(err, "a filter");
    const char *op = json_string_value(oper);
    if (!op || (strcmp(op, "IN") != 0 && strcmp(op, "NOTIN") != 0))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s.oper must be IN or NOTIN", path);
    c->notin = op[0] == 'N';
    if (!json_is_array(vals) || json_array_size(vals) == 0 ||
        json_array_size(vals) > RULE_FILTER_VALS_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s.vals must be an array of 1 to %d strings",
                          path, RULE_FILTER_VALS_MAX);
    if (!(c->vals = calloc(json_array_size(vals), sizeof(*c->vals))))
        return tc_err_oom(err, "a filter");
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v) {
        c->nvals = i + 1;
        snprintf(sub, sizeof(sub), "%s.vals[%zu]", path, i);
        if (compile_val(&c->vals[i], v, sub, err) != 0)
            return -1;
    }
    return 0;
}

static int compile_group(cond_group *g, json_t *j, const char *path, tc_err *err) {
    if (!json_is_array(j) || json_array_size(j) == 0 ||
        json_array_size(j) > RULE_FILTER_CONDITIONS_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be an array of 1 to %d conditions",
                          path, RULE_FILTER_CONDITIONS_MAX);
    if (!(g->conds = calloc(json_array_size(j), sizeof(*g->conds))))
        return tc_err_oom(err, "a filter");
    size_t i;
    json_t *c;
    json_array_foreach(j, i, c) {
        char sub[128];
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        g->nconds = i + 1;
        if (compile_cond(&g->conds[i], c, sub, err) != 0)
            return -1;
    }
    return 0;
}

int rule_filter_compile(json_t *groups, const char *path, rule_filter **out, tc_err *err) {
    *out = NULL;
    if (!json_is_array(groups) || json_array_size(groups) == 0 ||
        json_array_size(groups) > RULE_FILTER_GROUPS_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "%s must be a non-empty array of at most %d condition groups", path,
                          RULE_FILTER_GROUPS_MAX);
    rule_filter *f = calloc(1, sizeof(*f));
    if (!f || !(f->groups = calloc(json_array_size(groups), sizeof(*f->groups)))) {
        free(f);
        return tc_err_oom(err, "a filter");
    }
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g) {
        char sub[96];
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        f->ngroups = i + 1;
        if (compile_group(&f->groups[i], g, sub, err) != 0) {
            rule_filter_free(f);
            return -1;
        }
    }
    *out = f;
    return 0;
}

void rule_filter_free(rule_filter *f) {
    if (!f)
        return;
    for (size_t g = 0; g < f->ngroups; g++) {
        cond_group *grp = &f->groups[g];
        for (size_t c = 0; c < grp->nconds; c++) {
            for (size_t v = 0; v < grp->conds[c].nvals; v++)
                val_clear(&grp->conds[c].vals[v]);
            free(grp->conds[c].vals);
            free(grp->conds[c].label);
        }
        free(grp->conds);
    }
    free(f->groups);
    free(f);
}
