/* test_event_input.c: the limits of an incoming event, the derived key and
 * the content hash (core/event_input.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/event_input.h"

static char *repeat(char c, size_t n) {
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void labels_limits(void **state) {
    (void)state;
    json_t *out = NULL;
    tc_err err;
    assert_int_equal(event_labels_normalize(NULL, "labels", &out, &err), 0);
    assert_null(out);
    json_t *many = json_object();
    for (int i = 0; i < 51; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        json_object_set_new(many, k, json_string("v"));
    }
    assert_int_equal(event_labels_normalize(many, "labels", &out, &err), -1);
    assert_int_equal(err.code, TC_INVALID_PARAMETER);
    assert_non_null(strstr(err.message, "labels"));
    assert_non_null(strstr(err.message, "50"));
    json_object_del(many, "k50");
    assert_int_equal(event_labels_normalize(many, "labels", &out, &err), 0);
    assert_int_equal(json_object_size(out), 50);
    json_decref(out);
    json_decref(many);

    char *long_key = repeat('k', 129), *long_value = repeat('v', 3000);
    json_t *l = json_object();
    json_object_set_new(l, long_key, json_string("x"));
    assert_int_equal(event_labels_normalize(l, "labels", &out, &err), -1);
    assert_non_null(strstr(err.message, "128"));
    json_decref(l);
    l = json_pack("{s:s}", "k", long_value);
    assert_int_equal(event_labels_normalize(l, "labels", &out, &err), 0);
    assert_int_equal(strlen(json_string_value(json_object_get(out, "k"))), 2048);
    json_decref(out);
    json_decref(l);
    l = json_pack("{s:i}", "n", 5);
    assert_int_equal(event_labels_normalize(l, "alerts[2].labels", &out, &err), -1);
    assert_non_null(strstr(err.message, "alerts[2].labels"));
    assert_non_null(strstr(err.message, "string"));
    json_decref(l);
    l = json_pack("[s]", "x");
    assert_int_equal(event_labels_normalize(l, "labels", &out, &err), -1);
    json_decref(l);
    free(long_key);
    free(long_value);
}

/* A long label key of multi-byte characters is quoted cut at a character,
 * within the message's buffer (fuzz/corpus/event_standard/
 * crash-label-key-excerpt overflowed it). */
static void label_key_excerpt_multibyte(void **state) {
    (void)state;
    char key[70 * 6 + 1] = "";
    for (int i = 0; i < 70; i++)
        strcat(key, "\u65e5\u672c"); /* 日本: 3 bytes each */
    json_t *l = json_object(), *out = NULL;
    json_object_set_new(l, key, json_string("v"));
    tc_err err;
    assert_int_equal(event_labels_normalize(l, "labels", &out, &err), -1);
    assert_non_null(strstr(err.message, "128"));
    assert_non_null(strstr(err.message, "..."));
    json_t *msg = json_string(err.message); /* NULL unless valid UTF-8 */
    assert_non_null(msg);
    json_decref(msg);
    json_decref(l);
}

static void images_limits(void **state) {
    (void)state;
    char *long_src = repeat('s', 257), *long_alt = repeat('a', 200), *long_href = repeat('h', 257);
    json_t *in = json_pack("[{s:s, s:s, s:s}, {s:s}, {s:s, s:s, s:s}]", "src", "http://i/1.png",
                           "alt", long_alt, "href", long_href, "src", long_src, "src", "img_2",
                           "alt", "two", "href", "http://x", "extra", "dropped");
    json_t *out = NULL;
    tc_err err;
    assert_int_equal(event_images_normalize(in, "images", &out, &err), 0);
    assert_int_equal(json_array_size(out), 2); /* the long src is dropped */
    json_t *first = json_array_get(out, 0);
    assert_int_equal(strlen(json_string_value(json_object_get(first, "alt"))), 128);
    /* too long: cut, not dropped (reference/event-api.md: href <= 256) */
    assert_int_equal(strlen(json_string_value(json_object_get(first, "href"))), 256);
    json_t *second = json_array_get(out, 1);
    assert_string_equal(json_string_value(json_object_get(second, "src")), "img_2");
    assert_string_equal(json_string_value(json_object_get(second, "href")), "http://x");
    json_decref(out);
    json_decref(in);
    in = json_pack("[{s:s}]", "alt", "no src");
    assert_int_equal(event_images_normalize(in, "images", &out, &err), -1);
    assert_non_null(strstr(err.message, "images[0].src"));
    json_decref(in);
    in = json_pack("[{s:s, s:i}]", "src", "x", "alt", 3);
    assert_int_equal(event_images_normalize(in, "images", &out, &err), -1);
    assert_non_null(strstr(err.message, "images[0].alt"));
    json_decref(in);
    in = json_pack("{s:s}", "src", "x");
    assert_int_equal(event_images_normalize(in, "images", &out, &err), -1);
    json_decref(in);
    free(long_src);
    free(long_alt);
    free(long_href);
}

static void derived_key_is_deterministic(void **state) {
    (void)state;
    json_t *a = json_pack("{s:s, s:s}", "x", "1", "y", "2");
    json_t *b = json_pack("{s:s, s:s}", "y", "2", "x", "1");
    json_t *c = json_pack("{s:s, s:s}", "x", "1", "y", "3");
    char ka[65], kb[65], kc[65], kd[65], ke[65];
    assert_int_equal(event_key_derive("t", a, ka), 0);
    assert_int_equal(event_key_derive("t", b, kb), 0);
    assert_int_equal(event_key_derive("t", c, kc), 0);
    assert_int_equal(event_key_derive("u", a, kd), 0);
    assert_int_equal(event_key_derive("t", NULL, ke), 0);
    assert_int_equal(strlen(ka), 64);
    assert_string_equal(ka, kb);
    assert_string_not_equal(ka, kc);
    assert_string_not_equal(ka, kd);
    assert_string_not_equal(ka, ke);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void content_hash_tells_apart(void **state) {
    (void)state;
    json_t *l = json_pack("{s:s}", "x", "1");
    json_t *l2 = json_pack("{s:s}", "x", "1");
    json_t *empty = json_object();
    char h1[65], h2[65], h3[65], h4[65], h5[65];
    assert_int_equal(event_content_hash("Critical", "t", NULL, l, NULL, h1), 0);
    assert_int_equal(event_content_hash("Critical", "t", NULL, l2, NULL, h2), 0);
    assert_string_equal(h1, h2);
    assert_int_equal(event_content_hash("Warning", "t", NULL, l, NULL, h3), 0);
    assert_string_not_equal(h1, h3);
    assert_int_equal(event_content_hash("Critical", "t", "", l, NULL, h4), 0);
    assert_string_not_equal(h1, h4); /* absent and empty description differ */
    assert_int_equal(event_content_hash("Critical", "t", NULL, empty, NULL, h5), 0);
    assert_int_equal(event_content_hash("Critical", "t", NULL, NULL, NULL, h4), 0);
    assert_string_not_equal(h4, h5);
    json_decref(l);
    json_decref(l2);
    json_decref(empty);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(labels_limits),
        cmocka_unit_test(label_key_excerpt_multibyte),
        cmocka_unit_test(images_limits),
        cmocka_unit_test(derived_key_is_deterministic),
        cmocka_unit_test(content_hash_tells_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
