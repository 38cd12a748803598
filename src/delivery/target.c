/* target.c: see target.h. */
#include "delivery/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/doc.h"

void push_target_init(push_target *t) {
    memset(t, 0, sizeof(*t));
    retry_policy_default(&t->retry);
}

void push_target_clear(push_target *t) {
    free(t->name);
    free(t->endpoint);
    free(t->body_template);
    free(t->secret);
    free(t->prev_secret);
    signature_signer_free(t->signer);
    signature_signer_free(t->prev_signer);
    json_decref(t->headers);
    json_decref(t->channel_ids);
    push_target_init(t);
}

/* *out = a copy of s, or NULL when s is NULL or "". -1 only when the copy
 * failed: a secret or a template that could not be copied must fail the
 * target, never leave it without one (unsigned pushes, the default body). */
static int dup_opt(const char *s, char **out) {
    *out = s && *s ? strdup(s) : NULL;
    return s && *s && !*out ? -1 : 0;
}

static void read_retry(json_t *retry, retry_policy *p) {
    json_t *max = json_object_get(retry, "max_attempts");
    json_t *schedule = json_object_get(retry, "schedule_s");
    if (json_is_integer(max) && json_integer_value(max) > 0)
        p->max_attempts = (int)json_integer_value(max);
    if (json_is_array(schedule) && json_array_size(schedule) > 0) {
        p->nschedule = 0;
        size_t i;
        json_t *v;
        json_array_foreach(schedule, i, v) {
            if (p->nschedule < RETRY_MAX_SCHEDULE && json_is_integer(v))
                p->schedule_s[p->nschedule++] = json_integer_value(v);
        }
    }
}

static int flag(json_t *config, const char *key, int dflt) {
    json_t *v = json_object_get(config, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* A signer for secret, if it has a valid one. An invalid secret leaves
 * none: signing a push then fails with the secret's error, as it would
 * without signers. */
static int keyed(const char *secret, signature_signer **out, tc_err *err) {
    *out = NULL;
    if (!secret || !signature_secret_valid(secret))
        return 0;
    return signature_signer_new(secret, out, err);
}

int push_target_from_row(const store_push_target_row *row, int64_t now_s, push_target *t,
                         tc_err *err) {
    push_target_init(t);
    t->integration_id = row->integration_id;
    snprintf(t->type, sizeof(t->type), "%s", row->type);
    t->enabled = strcmp(row->status, "enabled") == 0;
    json_t *config = NULL;
    if (doc_parse_n(row->config, "integration_config", t->integration_id, &config, err) != 0)
        return -1;
    const char *tmpl = json_string_value(json_object_get(config, "body_template"));
    const char *endpoint = json_string_value(json_object_get(config, "endpoint"));
    json_t *headers = json_object_get(config, "headers");
    json_t *timeout = json_object_get(config, "timeout_ms");
    t->tls_verify = flag(config, "tls_verify", 1);
    t->timeout_ms = json_is_integer(timeout) ? json_integer_value(timeout) : 1000;
    t->ordered = flag(config, "ordered", 1);
    t->signing = flag(config, "signing", 1);
    t->prev_secret_expires_at = row->prev_secret_expires_at;
    read_retry(json_object_get(config, "retry"), &t->retry);
    int copied = (t->name = strdup(row->name)) != NULL && dup_opt(endpoint, &t->endpoint) == 0 &&
                 dup_opt(tmpl, &t->body_template) == 0 &&
                 dup_opt(row->signing_secret, &t->secret) == 0 &&
                 (t->prev_secret_expires_at <= now_s ||
                  dup_opt(row->prev_signing_secret, &t->prev_secret) == 0) &&
                 (t->headers = json_is_object(headers) ? json_incref(headers) : json_object());
    t->channel_ids = json_incref(json_object_get(config, "channel_ids"));
    json_decref(config);
    if (!copied) {
        push_target_clear(t);
        return tc_err_oom(err, "an integration's delivery settings");
    }
    if (keyed(t->secret, &t->signer, err) != 0 ||
        keyed(t->prev_secret, &t->prev_signer, err) != 0) {
        push_target_clear(t);
        return -1;
    }
    if (!t->endpoint) {
        push_target_clear(t);
        return tc_err_set(err, TC_INTERNAL, "integration %lld has no endpoint",
                          (long long)row->integration_id);
    }
    return 0;
}

typedef struct {
    int64_t now_s;
    push_target *out;
} load_arg;

static int from_row(void *argp, const store_push_target_row *row, tc_err *err) {
    load_arg *a = argp;
    return push_target_from_row(row, a->now_s, a->out, err);
}

int push_target_load(store_conn *c, int64_t integration_id, int64_t now_s, push_target *out,
                     tc_err *err) {
    push_target_init(out);
    load_arg a = {now_s, out};
    int found = store_integrations_push_target(c, integration_id, from_row, &a, err);
    if (found == 0)
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "integration_id %lld is not a webhook or custom action that exists",
                   (long long)integration_id);
    return found == 1 ? 0 : -1;
}
