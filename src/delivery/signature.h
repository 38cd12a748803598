/* signature.h: Standard Webhooks signing (https://www.standardwebhooks.com).
 *
 * A signing secret is "whsec_" + base64 of 32 random bytes; the HMAC key is
 * the decoded bytes. A push carries webhook-id (the event_id),
 * webhook-timestamp (Unix seconds) and webhook-signature: "v1,<base64 of
 * HMAC-SHA256(key, id + "." + timestamp + "." + body)>"; during the 24 h
 * after a rotation, the signatures of both secrets, separated by a space. */
#ifndef TOCSIN_SIGNATURE_H
#define TOCSIN_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define SIGNATURE_SECRET_PREFIX "whsec_"
/* "whsec_" + base64(32 bytes) + NUL */
#define SIGNATURE_SECRET_MAX 64
/* "v1," + base64(32 bytes) + NUL */
#define SIGNATURE_ONE_MAX 48

/* A new random secret into out (SIGNATURE_SECRET_MAX bytes). */
int signature_secret_new(char *out, tc_err *err);
/* True when secret is "whsec_" + valid base64 of 24..64 bytes. */
int signature_secret_valid(const char *secret);
/* One "v1,<base64>" signature into out (SIGNATURE_ONE_MAX bytes). */
int signature_sign(const char *secret, const char *msg_id, int64_t timestamp, const char *body,
                   size_t body_len, char *out, tc_err *err);

/* A secret decoded and keyed once, for many signatures (the dispatcher
 * keeps one per target). A signer is not changed by signing: several
 * threads may sign with one. InvalidParameter when the secret is not valid. */
typedef struct signature_signer signature_signer;
int signature_signer_new(const char *secret, signature_signer **out, tc_err *err);
void signature_signer_free(signature_signer *s);
int signature_signer_sign(const signature_signer *s, const char *msg_id, int64_t timestamp,
                          const char *body, size_t body_len, char *out, tc_err *err);

#endif
