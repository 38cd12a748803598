/* event_input.c: see event_input.h. */
#include "core/event_input.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include "util/jbuild.h"
#include "util/utf8.h"

/* A new JSON string of s cut to max_chars characters. */
static json_t *cut_string(const char *s, size_t max_chars) {
    return json_stringn(s, utf8_prefix(s, max_chars));
}

/* Characters of a label key quoted in an error message (the whole key could
 * be kilobytes), and the room they need: up to 4 bytes each, "..." and NUL.
 * Found by fuzz/fuzz_event_standard: the buffer was 64 bytes, so 40
 * multi-byte characters overflowed it (the "..." was written past its end)
 * and a byte cut split a character, leaving a message that is not UTF-8. */
#define KEY_EXCERPT_CHARS 40
#define KEY_EXCERPT_CAP (KEY_EXCERPT_CHARS * 4 + 4)

/* out holds KEY_EXCERPT_CAP bytes; key is valid UTF-8 (jansson checked). */
static void key_excerpt(const char *key, char *out) {
    size_t keep = utf8_prefix(key, KEY_EXCERPT_CHARS);
    memcpy(out, key, keep);
    strcpy(out + keep, key[keep] ? "..." : "");
}

int event_labels_normalize(json_t *value, const char *field, json_t **out, tc_err *err) {
    *out = NULL;
    if (!value || json_is_null(value))
        return 0;
    if (!json_is_object(value))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be an object of strings", field);
    if (json_object_size(value) > EVENT_LABELS_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must have at most %d labels, not %zu",
                          field, EVENT_LABELS_MAX, json_object_size(value));
    json_t *labels = json_object();
    if (!labels)
        return tc_err_oom(err, field);
    const char *key;
    json_t *v;
    char excerpt[KEY_EXCERPT_CAP];
    json_object_foreach(value, key, v) {
        key_excerpt(key, excerpt);
        if (key[0] == '\0') {
            tc_err_set(err, TC_INVALID_PARAMETER, "%s: a label key must not be empty", field);
            goto fail;
        }
        if (utf8_len(key) > EVENT_LABEL_KEY_MAX) {
            tc_err_set(err, TC_INVALID_PARAMETER,
                       "%s: label key '%s' must be at most %d characters", field, excerpt,
                       EVENT_LABEL_KEY_MAX);
            goto fail;
        }
        if (!json_is_string(v)) {
            tc_err_set(err, TC_INVALID_PARAMETER, "%s: the value of label '%s' must be a string",
                       field, excerpt);
            goto fail;
        }
        if (json_object_set_new(labels, key,
                                cut_string(json_string_value(v), EVENT_LABEL_VALUE_MAX)) != 0) {
            tc_err_oom(err, "an event's labels");
            goto fail;
        }
    }
    *out = labels;
    return 0;
fail:
    json_decref(labels);
    return -1;
}

/* Reads an optional string member of image i; -1 when it is not a string. */
static int image_string(json_t *img, const char *member, const char *field, size_t i,
                        const char **out, tc_err *err) {
    json_t *v = json_object_get(img, member);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s[%zu].%s must be a string", field, i,
                          member);
    *out = json_string_value(v);
    return 0;
}

int event_images_normalize(json_t *value, const char *field, json_t **out, tc_err *err) {
    *out = NULL;
    if (!value || json_is_null(value))
        return 0;
    if (!json_is_array(value))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be a list of {alt, src, href}",
                          field);
    json_t *images = json_array();
    if (!images)
        return tc_err_oom(err, field);
    size_t i;
    json_t *img;
    json_array_foreach(value, i, img) {
        const char *alt, *src, *href;
        if (!json_is_object(img)) {
            tc_err_set(err, TC_INVALID_PARAMETER, "%s[%zu] must be an object {alt, src, href}",
                       field, i);
            goto fail;
        }
        if (image_string(img, "alt", field, i, &alt, err) != 0 ||
            image_string(img, "src", field, i, &src, err) != 0 ||
            image_string(img, "href", field, i, &href, err) != 0)
            goto fail;
        if (!src || !*src) {
            tc_err_set(err, TC_INVALID_PARAMETER, "%s[%zu].src is required", field, i);
            goto fail;
        }
        if (utf8_len(src) > EVENT_IMAGE_SRC_MAX)
            continue; /* the reference: dropped if longer */
        int failed = 0;
        json_t *norm = jb_check(json_pack("{s:s}", "src", src), &failed);
        if (alt)
            jb_set(norm, "alt", cut_string(alt, EVENT_IMAGE_ALT_MAX), &failed);
        if (href)
            jb_set(norm, "href", cut_string(href, EVENT_IMAGE_HREF_MAX), &failed);
        if (failed)
            json_decref(norm);
        else
            jb_append(images, norm, &failed);
        if (jb_done(failed, "an event's images", err) != 0)
            goto fail;
    }
    *out = images;
    return 0;
fail:
    json_decref(images);
    return -1;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Feeds the labels in key order to the digest: "key\0value\0" each. The
 * NUL separators make the encoding unambiguous (keys and values hold no NUL;
 * jansson refuses \u0000 in input). */
static int digest_labels(EVP_MD_CTX *md, json_t *labels) {
    size_t n = labels ? json_object_size(labels) : 0;
    if (n == 0)
        return 0;
    const char **keys = malloc(n * sizeof(*keys));
    if (!keys)
        return -1;
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v) keys[i++] = k;
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (i = 0; i < n; i++) {
        const char *val = json_string_value(json_object_get(labels, keys[i]));
        EVP_DigestUpdate(md, keys[i], strlen(keys[i]) + 1);
        EVP_DigestUpdate(md, val ? val : "", (val ? strlen(val) : 0) + 1);
    }
    free(keys);
    return 0;
}

static void hex_digest(EVP_MD_CTX *md, char *out) {
    static const char digits[] = "0123456789abcdef";
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(md, raw, &n);
    for (unsigned int i = 0; i < n && 2 * i < EVENT_HASH_LEN; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 15];
    }
    out[EVENT_HASH_LEN] = '\0';
}

/* A field that may be absent: a marker byte first, so that absent, empty
 * and present are three different inputs. */
static void digest_optional(EVP_MD_CTX *md, const char *s) {
    EVP_DigestUpdate(md, s ? "+" : "-", 1);
    if (s)
        EVP_DigestUpdate(md, s, strlen(s) + 1);
}

int event_key_derive(const char *title_rule, json_t *labels, char *out) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = -1;
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        goto out;
    EVP_DigestUpdate(md, "key1", 5); /* versioned, NUL included: a new scheme gets new keys */
    EVP_DigestUpdate(md, title_rule, strlen(title_rule) + 1);
    if (digest_labels(md, labels) != 0)
        goto out;
    hex_digest(md, out);
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    return rc;
}

int event_content_hash(const char *status, const char *title_rule, const char *description,
                       json_t *labels, json_t *images, char *out) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char *imgs = images ? jb_dumps(images, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc = -1;
    if (!md || (images && !imgs) || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        goto out;
    EVP_DigestUpdate(md, status, strlen(status) + 1);
    EVP_DigestUpdate(md, title_rule, strlen(title_rule) + 1);
    digest_optional(md, description);
    EVP_DigestUpdate(md, labels ? "+" : "-", 1);
    if (digest_labels(md, labels) != 0)
        goto out;
    digest_optional(md, imgs);
    hex_digest(md, out);
    rc = 0;
out:
    free(imgs);
    EVP_MD_CTX_free(md);
    return rc;
}
