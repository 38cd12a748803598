/* signature.c: Standard Webhooks signing of outgoing pushes.
 *
 * The dispatcher signs every push with the integration's secret(s) (see
 * signature.h for the header format). Everything cryptographic is OpenSSL's:
 * RAND_bytes for new secrets, EVP_EncodeBlock/EVP_DecodeBlock for base64 and
 * the EVP_MAC "HMAC" implementation for the MAC. What this file adds is the
 * strict checking of the secret's text, because EVP_DecodeBlock alone
 * tolerates whitespace and does not tell how many bytes the padding hid. */
#include "delivery/signature.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define SECRET_RANDOM_BYTES 32
#define SECRET_KEY_MIN 24
#define SECRET_KEY_MAX 64
#define PREFIX_LEN (sizeof(SIGNATURE_SECRET_PREFIX) - 1)

static int is_b64_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Decodes the base64 part of a "whsec_" secret into key[SECRET_KEY_MAX].
 * Returns the number of key bytes, or -1 when the text is not canonical
 * padded base64 of 24..64 bytes. */
static int secret_decode(const char *secret, unsigned char key[SECRET_KEY_MAX]) {
    if (!secret || strncmp(secret, SIGNATURE_SECRET_PREFIX, PREFIX_LEN) != 0)
        return -1;
    const char *b64 = secret + PREFIX_LEN;
    size_t len = strlen(b64);
    /* 64 bytes encode to 88 characters; anything longer is out of range. */
    if (len == 0 || len % 4 != 0 || len > 4 * ((SECRET_KEY_MAX + 2) / 3))
        return -1;
    size_t pad = 0;
    if (b64[len - 1] == '=')
        pad = b64[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++)
        if (!is_b64_char((unsigned char)b64[i]))
            return -1;
    unsigned char buf[4 * ((SECRET_KEY_MAX + 2) / 3)];
    int n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
    if (n < 0)
        return -1;
    n -= (int)pad; /* EVP_DecodeBlock counts the bytes the padding stands for */
    if (n < SECRET_KEY_MIN || n > SECRET_KEY_MAX)
        return -1;
    memcpy(key, buf, (size_t)n);
    return n;
}

int signature_secret_new(char *out, tc_err *err) {
    unsigned char raw[SECRET_RANDOM_BYTES];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return tc_err_set(err, TC_INTERNAL, "cannot draw random bytes for a signing secret");
    memcpy(out, SIGNATURE_SECRET_PREFIX, PREFIX_LEN);
    /* 32 bytes -> 44 characters + NUL: fits SIGNATURE_SECRET_MAX. */
    EVP_EncodeBlock((unsigned char *)out + PREFIX_LEN, raw, sizeof(raw));
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

int signature_secret_valid(const char *secret) {
    unsigned char key[SECRET_KEY_MAX];
    int n = secret_decode(secret, key);
    OPENSSL_cleanse(key, sizeof(key));
    return n > 0;
}

/* A keyed HMAC-SHA256 context, made once per secret: fetching the HMAC
 * implementation and keying it cost more than hashing a push's body
 * (perf: hmac_message was 8% of the dispatcher thread's samples in a
 * drain). Each signature works on a copy, so a signer is never changed
 * after it is made. */
struct signature_signer {
    EVP_MAC_CTX *keyed;
};

static int secret_error(tc_err *err) {
    return tc_err_set(err, TC_INVALID_PARAMETER,
                      "signing_secret must be \"" SIGNATURE_SECRET_PREFIX
                      "\" followed by base64 of %d to %d bytes",
                      SECRET_KEY_MIN, SECRET_KEY_MAX);
}

int signature_signer_new(const char *secret, signature_signer **out, tc_err *err) {
    *out = NULL;
    unsigned char key[SECRET_KEY_MAX];
    int key_len = secret_decode(secret, key);
    if (key_len < 0)
        return secret_error(err);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    signature_signer *s = calloc(1, sizeof(*s));
    EVP_MAC *hmac = s ? EVP_MAC_fetch(NULL, "HMAC", NULL) : NULL;
    /* The context holds its own reference to hmac. */
    int ok = hmac && (s->keyed = EVP_MAC_CTX_new(hmac)) &&
             EVP_MAC_init(s->keyed, key, (size_t)key_len, params) == 1;
    EVP_MAC_free(hmac);
    OPENSSL_cleanse(key, sizeof(key));
    if (!ok) {
        signature_signer_free(s);
        return tc_err_set(err, TC_INTERNAL, "cannot set up HMAC-SHA256 for signing");
    }
    *out = s;
    return 0;
}

void signature_signer_free(signature_signer *s) {
    if (!s)
        return;
    EVP_MAC_CTX_free(s->keyed);
    free(s);
}

/* HMAC-SHA256 over id "." timestamp "." body, fed in parts so the body is
 * never copied. */
static int hmac_message(const signature_signer *s, const char *msg_id, const char *ts,
                        const char *body, size_t body_len, unsigned char mac[EVP_MAX_MD_SIZE],
                        size_t *mac_len) {
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(s->keyed);
    int ok = ctx && EVP_MAC_update(ctx, (const unsigned char *)msg_id, strlen(msg_id)) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)body, body_len) == 1 &&
             EVP_MAC_final(ctx, mac, mac_len, EVP_MAX_MD_SIZE) == 1;
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : -1;
}

int signature_signer_sign(const signature_signer *s, const char *msg_id, int64_t timestamp,
                          const char *body, size_t body_len, char *out, tc_err *err) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    char ts[24];
    if (!msg_id || (!body && body_len > 0))
        return tc_err_set(err, TC_INTERNAL, "signature_sign needs a message id and a body");
    snprintf(ts, sizeof(ts), "%" PRId64, timestamp);
    if (hmac_message(s, msg_id, ts, body ? body : "", body_len, mac, &mac_len) < 0 || mac_len != 32)
        return tc_err_set(err, TC_INTERNAL, "HMAC-SHA256 failed while signing a push");
    /* "v1," + 44 characters + NUL = SIGNATURE_ONE_MAX. */
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mac_len);
    return 0;
}

int signature_sign(const char *secret, const char *msg_id, int64_t timestamp, const char *body,
                   size_t body_len, char *out, tc_err *err) {
    signature_signer *s = NULL;
    if (signature_signer_new(secret, &s, err) != 0)
        return -1;
    int rc = signature_signer_sign(s, msg_id, timestamp, body, body_len, out, err);
    signature_signer_free(s);
    return rc;
}
