/* grouping.c: see grouping.h. */
#include "core/grouping.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

void group_rules_init(group_rules *g) {
    memset(g, 0, sizeof(*g));
    g->method = 'n';
}

void group_rules_clear(group_rules *g) {
    json_decref(g->equals);
    group_rules_init(g);
}

/* Keeps only the lists of strings (and non-empty ones). A new reference,
 * or NULL when out of memory (never a shorter list). */
static json_t *clean_equals(json_t *equals) {
    json_t *out = json_array();
    size_t i, j;
    json_t *list, *k;
    json_array_foreach(equals, i, list) {
        if (!json_is_array(list) || json_array_size(list) == 0)
            continue;
        int ok = 1;
        json_array_foreach(list, j, k) ok = ok && json_is_string(k);
        if (ok && json_array_append(out, list) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static void add_storm(group_rules *g, json_t *v) {
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || g->nstorm >= GROUP_MAX_STORM)
        return;
    int64_t t = json_integer_value(v);
    for (int i = 0; i < g->nstorm; i++)
        if (g->storm[i] == t)
            return;
    int i = g->nstorm++;
    while (i > 0 && g->storm[i - 1] > t) { /* keep ascending */
        g->storm[i] = g->storm[i - 1];
        i--;
    }
    g->storm[i] = t;
}

int group_rules_from_channel(json_t *channel_doc, group_rules *g) {
    group_rules_init(g);
    g->disable_auto_close = json_is_true(json_object_get(channel_doc, "disable_auto_close"));
    json_t *grp = json_object_get(channel_doc, "group");
    if (!json_is_object(grp))
        return 0;
    const char *method = json_string_value(json_object_get(grp, "method"));
    add_storm(g, json_object_get(grp, "storm_threshold"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(grp, "storm_thresholds"), i, v) add_storm(g, v);
    json_t *wt = json_object_get(grp, "time_window");
    if (json_is_integer(wt) && json_integer_value(wt) > 0)
        g->window_s = json_integer_value(wt) * 60;
    const char *window_type = json_string_value(json_object_get(grp, "window_type"));
    g->sliding = window_type && strcmp(window_type, "sliding") == 0;
    g->all_equals_required = json_is_true(json_object_get(grp, "all_equals_required"));
    if (method && strcmp(method, "p") == 0) {
        g->method = 'p';
        g->equals = clean_equals(json_object_get(grp, "equals"));
    } else if (method && strcmp(method, "i") == 0) {
        g->method = 'i';
        json_t *keys = json_object_get(grp, "i_keys");
        json_t *wrapped = json_pack("[O]", json_is_array(keys) ? keys : json_null());
        g->equals = wrapped ? clean_equals(wrapped) : NULL;
        json_decref(wrapped);
    } else {
        return 0;
    }
    /* Rules that lost their lists would group nothing: never use them. */
    if (!g->equals) {
        group_rules_clear(g);
        return -1;
    }
    return 0;
}

int group_rules_pattern(const group_rules *g) {
    return g->method != 'n' && g->equals && json_array_size(g->equals) > 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The digest (`md`) of the sorted keys and their values, as hex in out
 * (2 * digest size + 1 bytes); 1 when the list does not apply (see
 * group_key). */
static int keys_digest(json_t *keys, json_t *labels, int all_required, const EVP_MD *type,
                       char *out) {
    size_t n = json_array_size(keys);
    if (n == 0)
        return 1;
    const char **names = malloc(n * sizeof(*names));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = -1;
    if (!names || !md || EVP_DigestInit_ex(md, type, NULL) != 1)
        goto out;
    for (size_t i = 0; i < n; i++) {
        names[i] = json_string_value(json_array_get(keys, i));
        if (!names[i])
            names[i] = "";
    }
    qsort(names, n, sizeof(*names), cmp_str);
    EVP_DigestUpdate(md, "grp1", 5);
    for (size_t i = 0; i < n; i++) {
        const char *v = json_string_value(json_object_get(labels, names[i]));
        if (!v && all_required) {
            rc = 1;
            goto out;
        }
        EVP_DigestUpdate(md, names[i], strlen(names[i]) + 1);
        EVP_DigestUpdate(md, v ? v : "", (v ? strlen(v) : 0) + 1);
    }
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md, raw, &len);
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len && i < 32; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 15];
    }
    out[2 * (len < 32 ? len : 32)] = '\0';
    rc = 0;
out:
    free(names);
    EVP_MD_CTX_free(md);
    return rc;
}

int group_key(json_t *keys, json_t *labels, int all_required, char *out) {
    return keys_digest(keys, labels, all_required, EVP_sha256(), out);
}

int group_incident_digests(const group_rules *g, const char *labels_text, char *key, char *md5) {
    key[0] = md5[0] = '\0';
    if (!g || !group_rules_pattern(g) || !labels_text || !*labels_text)
        return 0;
    json_t *labels = json_loads(labels_text, 0, NULL);
    if (!json_is_object(labels)) {
        json_decref(labels);
        return 0; /* unreadable labels group nothing */
    }
    int rc = 0;
    size_t i;
    json_t *list;
    json_array_foreach(g->equals, i, list) {
        rc = keys_digest(list, labels, g->all_equals_required, EVP_sha256(), key);
        if (rc == 1)
            continue;
        if (rc == 0)
            rc = keys_digest(list, labels, g->all_equals_required, EVP_md5(), md5);
        break;
    }
    if (rc != 0)
        key[0] = md5[0] = '\0';
    json_decref(labels);
    return rc < 0 ? -1 : 0;
}

int group_window_open(const group_rules *g, int64_t start_time, int64_t last_alert_time,
                      int64_t now) {
    if (g->window_s <= 0)
        return 1;
    int64_t from = start_time;
    if (g->sliding && last_alert_time > from)
        from = last_alert_time;
    return now - from < g->window_s;
}

static int fired(json_t *storm_fired, int64_t t) {
    size_t i;
    json_t *v;
    json_array_foreach(storm_fired, i, v) {
        if (json_integer_value(v) == t)
            return 1;
    }
    return 0;
}

int group_storm_due(const group_rules *g, int64_t alert_cnt, json_t *storm_fired, int64_t *out) {
    int n = 0;
    for (int i = 0; i < g->nstorm; i++) {
        if (alert_cnt >= g->storm[i] && !fired(storm_fired, g->storm[i]))
            out[n++] = g->storm[i];
    }
    return n;
}
