/* ids.h: identifiers: 24-hex object ids, request ids, random keys.
 *
 * Object ids (incident_id, alert_id, event_id, request ids) have the shape
 * of MongoDB's ObjectID, which the contracts' 24 hex characters come from:
 * 4 bytes of Unix seconds, 5 random bytes drawn once per process, and a
 * 3-byte counter (starting at a random value). So ids grow with time and,
 * within a second, with the counter: every index on them is appended to
 * rather than inserted into at random (measured: a random suffix made the
 * store's index inserts several times dearer, bench/BENCHMARKS.md). Ids are
 * unique, not secret: nothing is reached by knowing one without a key.
 * Keys (app keys, integration keys, secrets) come from OpenSSL's CSPRNG. */
#ifndef TOCSIN_IDS_H
#define TOCSIN_IDS_H

#include <stddef.h>

#define IDS_OBJECT_LEN 24

/* out must hold IDS_OBJECT_LEN + 1 bytes. Returns 0, or -1 if the CSPRNG fails. */
int ids_object_new(char *out);
/* A random lowercase hex string of 2*nbytes characters; out holds 2*nbytes+1. */
int ids_random_hex(char *out, size_t nbytes);
/* True when s is exactly 24 hex characters. */
int ids_is_object_id(const char *s);
/* Lowercase hex SHA-256 of data; out holds 65 bytes. */
void ids_sha256_hex(const void *data, size_t len, char *out);

#endif
