/* push.c: see push.h. */
#include "delivery/push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "delivery/signature.h"
#include "delivery/template.h"
#include "util/clock.h"
#include "util/doc.h"
#include "util/utf8.h"

void push_attempt_init(push_attempt *a) {
    memset(a, 0, sizeof(*a));
    a->retry_after_s = -1;
}

void push_attempt_clear(push_attempt *a) {
    if (a->easy)
        curl_easy_cleanup(a->easy);
    curl_slist_free_all(a->headers);
    free(a->body);
    free(a->headers_text);
    free(a->resp_headers);
    free(a->resp_body);
    push_attempt_init(a);
}

int push_header_is_sensitive(const char *name) {
    static const char *const words[] = {"authorization", "token",  "key", "secret",
                                        "password",      "cookie", NULL};
    for (int i = 0; words[i]; i++) {
        if (strcasestr(name, words[i]))
            return 1;
    }
    return 0;
}

/* Appends "name: value" to the request and its masked copy to the text
 * history shows. Joined with memcpy: snprintf here was a tenth of the
 * dispatcher's instructions per push (callgrind, a 1,000-push drain). */
static int add_header(push_attempt *a, const char *name, const char *value, int mask) {
    size_t nlen = strlen(name), vlen = strlen(value);
    char small[512], *line = nlen + vlen + 3 <= sizeof(small) ? small : malloc(nlen + vlen + 3);
    if (!line)
        return -1;
    memcpy(line, name, nlen);
    memcpy(line + nlen, ": ", 2);
    memcpy(line + nlen + 2, value, vlen + 1);
    struct curl_slist *grown = curl_slist_append(a->headers, line);
    if (line != small)
        free(line);
    if (!grown)
        return -1;
    a->headers = grown;
    const char *shown = mask ? "***" : value;
    size_t slen = mask ? 3 : vlen;
    size_t old = a->headers_text_len, add = nlen + 2 + slen + 1;
    char *text = realloc(a->headers_text, old + add + 1);
    if (!text)
        return -1;
    memcpy(text + old, name, nlen);
    memcpy(text + old + nlen, ": ", 2);
    memcpy(text + old + nlen + 2, shown, slen);
    text[old + add - 1] = '\n';
    text[old + add] = '\0';
    a->headers_text = text;
    a->headers_text_len = old + add;
    return 0;
}

static int build_body(push_attempt *a, const push_target *t, const char *event_id,
                      const char *default_body, tc_err *err) {
    if (!t->body_template) {
        a->body = strdup(default_body);
        return a->body ? 0 : tc_err_oom(err, "a push's body");
    }
    json_t *parsed = NULL;
    if (doc_parse(default_body, "event_body", event_id, &parsed, err) != 0)
        return -1;
    int rc = template_render(t->body_template, parsed, &a->body, err);
    json_decref(parsed);
    return rc;
}

/* With the target's keyed signer; without one (a secret that is not
 * valid), signature_sign reports why. */
static int sign_one(const signature_signer *signer, const char *secret, const char *event_id,
                    int64_t timestamp_s, const char *body, size_t len, char *out, tc_err *err) {
    if (signer)
        return signature_signer_sign(signer, event_id, timestamp_s, body, len, out, err);
    return signature_sign(secret, event_id, timestamp_s, body, len, out, err);
}

static int sign_headers(push_attempt *a, const push_target *t, const char *event_id,
                        int64_t timestamp_s, tc_err *err) {
    char ts[24], one[SIGNATURE_ONE_MAX], two[SIGNATURE_ONE_MAX];
    char both[2 * SIGNATURE_ONE_MAX + 1];
    snprintf(ts, sizeof(ts), "%lld", (long long)timestamp_s);
    if (add_header(a, "webhook-id", event_id, 0) != 0 ||
        add_header(a, "webhook-timestamp", ts, 0) != 0)
        return tc_err_oom(err, "a push's headers");
    if (!t->signing)
        return 0;
    /* A target that signs goes out signed or not at all: a receiver that
     * checks signatures must never see an unsigned push from it. */
    if (!t->secret)
        return tc_err_set(err, TC_INTERNAL,
                          "integration %lld signs its pushes but has no signing secret: not sent",
                          (long long)t->integration_id);
    size_t len = strlen(a->body);
    if (sign_one(t->signer, t->secret, event_id, timestamp_s, a->body, len, one, err) != 0)
        return -1;
    snprintf(both, sizeof(both), "%s", one);
    if (t->prev_secret) {
        if (sign_one(t->prev_signer, t->prev_secret, event_id, timestamp_s, a->body, len, two,
                     err) != 0)
            return -1;
        snprintf(both, sizeof(both), "%s %s", one, two);
    }
    if (add_header(a, "webhook-signature", both, 0) != 0)
        return tc_err_oom(err, "a push's headers");
    return 0;
}

static int build_headers(push_attempt *a, const push_target *t, const char *event_id,
                         int64_t sequence, int64_t timestamp_s, tc_err *err) {
    /* "Expect:" turns off libcurl's 100-continue wait on larger bodies. */
    struct curl_slist *expect = NULL;
    if (add_header(a, "Content-Type", "application/json", 0) != 0 ||
        add_header(a, "User-Agent", "tocsin/0.1", 0) != 0 ||
        !(expect = curl_slist_append(a->headers, "Expect:")))
        return tc_err_oom(err, "a push's headers");
    a->headers = expect;
    const char *name;
    json_t *value;
    json_object_foreach(t->headers, name, value) {
        const char *v = json_string_value(value);
        if (v && add_header(a, name, v, push_header_is_sensitive(name)) != 0)
            return tc_err_oom(err, "a push's headers");
    }
    if (sign_headers(a, t, event_id, timestamp_s, err) != 0)
        return -1;
    if (sequence > 0) {
        char seq[24];
        snprintf(seq, sizeof(seq), "%lld", (long long)sequence);
        if (add_header(a, "tocsin-sequence", seq, 0) != 0)
            return tc_err_oom(err, "a push's headers");
    }
    return 0;
}

/* Keeps at most PUSH_CAPTURE_MAX bytes; the rest is read and dropped so
 * the transfer completes. */
static size_t capture(char **buf, size_t *len, const char *data, size_t n) {
    size_t room = *len < PUSH_CAPTURE_MAX ? PUSH_CAPTURE_MAX - *len : 0;
    size_t take = n < room ? n : room;
    if (take) {
        char *grown = realloc(*buf, *len + take + 1);
        if (!grown)
            return 0; /* curl then fails the transfer: out of memory */
        memcpy(grown + *len, data, take);
        *len += take;
        grown[*len] = '\0';
        *buf = grown;
    }
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg) {
    push_attempt *a = arg;
    return capture(&a->resp_body, &a->resp_body_len, data, size * nmemb);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg) {
    push_attempt *a = arg;
    /* A new status line (after a 1xx) starts the headers afresh. */
    if (size * nmemb >= 5 && strncmp(data, "HTTP/", 5) == 0)
        a->resp_headers_len = 0;
    return capture(&a->resp_headers, &a->resp_headers_len, data, size * nmemb);
}

static int setup_easy(push_attempt *a, CURL *reuse, const push_target *t, const push_network *net,
                      tc_err *err) {
    if (reuse)
        curl_easy_reset(reuse);
    CURL *e = a->easy = reuse ? reuse : curl_easy_init();
    if (!e)
        return tc_err_set(err, TC_INTERNAL, "cannot start an HTTP request");
    char iface[300];
    int ok = curl_easy_setopt(e, CURLOPT_URL, t->endpoint) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_POST, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_POSTFIELDS, a->body) == CURLE_OK;
    ok = ok &&
         curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(a->body)) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->headers) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    /* No proxy from the environment: the guard must judge the endpoint's
     * own address, not a proxy's. */
    ok = ok && curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, t->tls_verify ? 1L : 0L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, t->tls_verify ? 2L : 0L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_WRITEDATA, a) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_HEADERDATA, a) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_ERRORBUFFER, a->curl_error) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_PRIVATE, a) == CURLE_OK;
    if (net && net->g) {
        a->guard.g = net->g;
        ok = ok && curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, guard_opensocket) == CURLE_OK;
        ok = ok && curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &a->guard) == CURLE_OK;
    }
    if (net && net->egress_address) {
        snprintf(iface, sizeof(iface), "host!%s", net->egress_address);
        ok = ok && curl_easy_setopt(e, CURLOPT_INTERFACE, iface) == CURLE_OK;
    }
    if (!ok)
        return tc_err_set(err, TC_INTERNAL, "cannot set up the HTTP request");
    return 0;
}

int push_attempt_prepare(push_attempt *a, const push_target *t, const push_network *net,
                         const char *event_id, int64_t sequence, const char *default_body,
                         int64_t timestamp_s, tc_err *err) {
    return push_attempt_prepare_reusing(a, NULL, t, net, event_id, sequence, default_body,
                                        timestamp_s, err);
}

int push_attempt_prepare_reusing(push_attempt *a, CURL *reuse, const push_target *t,
                                 const push_network *net, const char *event_id, int64_t sequence,
                                 const char *default_body, int64_t timestamp_s, tc_err *err) {
    push_attempt_init(a);
    if (build_body(a, t, event_id, default_body, err) != 0 ||
        build_headers(a, t, event_id, sequence, timestamp_s, err) != 0) {
        if (reuse)
            curl_easy_cleanup(reuse);
        push_attempt_clear(a);
        return -1;
    }
    if (setup_easy(a, reuse, t, net, err) != 0) {
        push_attempt_clear(a);
        return -1;
    }
    a->started_ms = clock_mono_ms();
    return 0;
}

/* The value of header `name` in the captured response headers, or NULL.
 * Writes into out. */
static const char *find_header(const push_attempt *a, const char *name, char *out, size_t cap) {
    if (!a->resp_headers)
        return NULL;
    size_t nlen = strlen(name);
    for (const char *line = a->resp_headers; line && *line;) {
        const char *end = strpbrk(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vlen = len - (size_t)(v - line);
            if (vlen >= cap)
                vlen = cap - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return out;
        }
        line = end ? end + strspn(end, "\r\n") : NULL;
    }
    return NULL;
}

void push_attempt_finish(push_attempt *a, CURLcode rc, int64_t now_s) {
    a->duration_ms = clock_mono_ms() - a->started_ms;
    /* What a receiver answers is any bytes at all; history hands them out
     * as JSON strings, which must be UTF-8 (a cut at PUSH_CAPTURE_MAX can
     * also split a character). A NUL ends the kept text. */
    if (a->resp_body)
        utf8_sanitize(a->resp_body);
    if (a->resp_headers)
        utf8_sanitize(a->resp_headers);
    long code = 0, request_size = 0;
    curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(a->easy, CURLINFO_REQUEST_SIZE, &request_size);
    a->request_sent = request_size > 0;
    a->error[0] = '\0';
    if (rc != CURLE_OK) {
        /* No complete response within the timeout is a failed attempt,
         * whatever status line may have arrived. */
        if (a->guard.refused[0])
            snprintf(a->error, sizeof(a->error), "refused by the address guard: %s",
                     a->guard.refused);
        else
            snprintf(a->error, sizeof(a->error), "%s%s%s", curl_easy_strerror(rc),
                     a->curl_error[0] ? ": " : "", a->curl_error);
        a->status = code;
        /* A refused address will be refused again: failed for good (it can
         * be resent once the guard allows it), not retried. */
        a->outcome = a->guard.refused[0] ? OUTCOME_FAILED : outcome_classify(0);
        return;
    }
    a->status = code;
    a->outcome = outcome_classify(code);
    if (code == 429 || code == 503) {
        char value[128];
        if (find_header(a, "Retry-After", value, sizeof(value)))
            a->retry_after_s = retry_after_parse(value, now_s);
    }
    if (a->outcome != OUTCOME_DELIVERED)
        snprintf(a->error, sizeof(a->error), "the endpoint answered HTTP %ld", code);
}

void push_attempt_perform(push_attempt *a, int64_t now_s) {
    CURLcode rc = curl_easy_perform(a->easy);
    push_attempt_finish(a, rc, now_s);
}
