/* test_signature.c: Standard Webhooks secrets and signatures
 * (delivery/signature.c). The interop check against the npm package
 * `standardwebhooks` is tests/e2e/test_signature_interop.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "delivery/signature.h"

/* The example of the Standard Webhooks specification (and of its libraries'
 * test suites). The expected value was computed once with Python:
 *   k = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")        # 24 bytes
 *   m = b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}'
 *   base64.b64encode(hmac.new(k, m, hashlib.sha256).digest())          */
static void spec_vector(void **state) {
    (void)state;
    const char *body = "{\"test\": 2432232314}";
    char sig[SIGNATURE_ONE_MAX];
    tc_err err;
    assert_int_equal(signature_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                                    sig, &err),
                     0);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

/* A 32-byte key 00 01 .. 1f, a UTF-8 body, computed once with Python:
 *   k = bytes(range(32))
 *   m = b'01HQ.1700000000.{"event_type":"i_new","x":"\xc3\xa9"}'
 *   base64.b64encode(hmac.new(k, m, hashlib.sha256).digest())
 * and an empty body with a negative timestamp (m = b"e.-5."). */
static void fixed_secret_vectors(void **state) {
    (void)state;
    const char *secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const char *body = "{\"event_type\":\"i_new\",\"x\":\"\xc3\xa9\"}";
    char sig[SIGNATURE_ONE_MAX];
    tc_err err;
    assert_true(signature_secret_valid(secret));
    assert_int_equal(signature_sign(secret, "01HQ", 1700000000, body, strlen(body), sig, &err), 0);
    assert_string_equal(sig, "v1,OGTlBkt946imOjYd9n3xAhVUD7LLdARquQ6ONYY/RPY=");
    assert_int_equal(signature_sign(secret, "e", -5, NULL, 0, sig, &err), 0);
    assert_string_equal(sig, "v1,OUGTCYHU0ByceZrlv0Af7wi5GFukA0HQ3zEVDafewps=");
    assert_int_equal(signature_sign(secret, "e", -5, "", 0, sig, &err), 0);
    assert_string_equal(sig, "v1,OUGTCYHU0ByceZrlv0Af7wi5GFukA0HQ3zEVDafewps=");
}

/* The body length, not a NUL, ends the signed body; any change of id,
 * timestamp or body changes the signature. */
static void every_part_is_signed(void **state) {
    (void)state;
    const char *secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const char body[] = "{\"a\":1}\0tail";
    char a[SIGNATURE_ONE_MAX], b[SIGNATURE_ONE_MAX];
    tc_err err;
    assert_int_equal(signature_sign(secret, "id1", 100, body, 7, a, &err), 0);
    assert_int_equal(signature_sign(secret, "id1", 100, body, sizeof(body) - 1, b, &err), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(signature_sign(secret, "id2", 100, body, 7, b, &err), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(signature_sign(secret, "id1", 101, body, 7, b, &err), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(signature_sign(secret, "id1", 100, "{\"a\":2}", 7, b, &err), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(signature_sign(secret, "id1", 100, body, 7, b, &err), 0);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), SIGNATURE_ONE_MAX - 1);
}

static void new_secrets_are_valid_and_distinct(void **state) {
    (void)state;
    char s1[SIGNATURE_SECRET_MAX], s2[SIGNATURE_SECRET_MAX];
    tc_err err;
    assert_int_equal(signature_secret_new(s1, &err), 0);
    assert_int_equal(signature_secret_new(s2, &err), 0);
    assert_int_equal(strncmp(s1, SIGNATURE_SECRET_PREFIX, 6), 0);
    assert_int_equal(strlen(s1), 6 + 44); /* 32 bytes in base64 */
    assert_true(signature_secret_valid(s1));
    assert_true(signature_secret_valid(s2));
    assert_string_not_equal(s1, s2);
    char sig[SIGNATURE_ONE_MAX];
    assert_int_equal(signature_sign(s1, "id", 1, "x", 1, sig, &err), 0);
    assert_int_equal(strncmp(sig, "v1,", 3), 0);
}

static void secret_validity(void **state) {
    (void)state;
    /* 24 bytes (32 chars), 64 bytes (88 chars): the bounds. */
    assert_true(signature_secret_valid("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    char big[6 + 88 + 1] = "whsec_";
    for (int i = 0; i < 86; i++)
        big[6 + i] = 'A';
    strcpy(big + 6 + 86, "==");
    assert_true(signature_secret_valid(big)); /* 64 bytes */
    strcpy(big + 6 + 84, "AAAA");             /* 66 bytes */
    assert_false(signature_secret_valid(big));
    /* 23 bytes: 32 characters ending with one '='. */
    assert_false(signature_secret_valid("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS="));
    assert_false(signature_secret_valid("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFR=="));
    assert_false(signature_secret_valid(NULL));
    assert_false(signature_secret_valid(""));
    assert_false(signature_secret_valid("whsec_"));
    assert_false(signature_secret_valid("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_false(signature_secret_valid("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_false(signature_secret_valid("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"));   /* len%4 */
    assert_false(signature_secret_valid("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w"));  /* url */
    assert_false(signature_secret_valid("whsec_MfKQ9r8GKYqrTwjU D8ILPZIo2LaLaSw"));  /* space */
    assert_false(signature_secret_valid(" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")); /* lead */
    assert_false(signature_secret_valid("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"));
    assert_false(signature_secret_valid("whsec_MfKQ9r8GKYqrTwjU=D8ILPZIo2LaLaSw")); /* mid = */
    assert_false(signature_secret_valid("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaL==="));
}

static void bad_secret_is_refused_naming_it(void **state) {
    (void)state;
    char sig[SIGNATURE_ONE_MAX];
    tc_err err;
    assert_int_equal(signature_sign("whsec_short", "id", 1, "x", 1, sig, &err), -1);
    assert_int_equal(err.code, TC_INVALID_PARAMETER);
    assert_non_null(strstr(err.message, "signing_secret"));
    assert_non_null(strstr(err.message, "24 to 64 bytes"));
}

/* A signer keyed once gives the spec's signature, and the same one again:
 * signing works on a copy and leaves the keyed context as it was. */
static void signer_is_reusable(void **state) {
    (void)state;
    const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const char *body = "{\"test\": 2432232314}";
    signature_signer *s = NULL;
    tc_err err;
    char a[SIGNATURE_ONE_MAX], b[SIGNATURE_ONE_MAX], c[SIGNATURE_ONE_MAX];
    assert_int_equal(signature_signer_new(secret, &s, &err), 0);
    assert_int_equal(signature_signer_sign(s, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                                           strlen(body), a, &err),
                     0);
    assert_string_equal(a, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert_int_equal(signature_signer_sign(s, "other", 7, "x", 1, b, &err), 0);
    assert_int_equal(signature_sign(secret, "other", 7, "x", 1, c, &err), 0);
    assert_string_equal(b, c);
    assert_int_equal(signature_signer_sign(s, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                                           strlen(body), b, &err),
                     0);
    assert_string_equal(a, b);
    signature_signer_free(s);
    assert_int_equal(signature_signer_new("whsec_short", &s, &err), -1);
    assert_null(s);
    assert_int_equal(err.code, TC_INVALID_PARAMETER);
    assert_non_null(strstr(err.message, "signing_secret"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_vector),
        cmocka_unit_test(fixed_secret_vectors),
        cmocka_unit_test(every_part_is_signed),
        cmocka_unit_test(new_secrets_are_valid_and_distinct),
        cmocka_unit_test(secret_validity),
        cmocka_unit_test(bad_secret_is_refused_naming_it),
        cmocka_unit_test(signer_is_reusable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
