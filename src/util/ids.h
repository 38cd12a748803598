/* ids.h: identifiers: 24-hex object ids, request ids, random keys.
 *
 * Object ids (incident_id, alert_id, event_id) have the MongoDB ObjectID
 * shape the contracts require (24 hex characters): 4 bytes of Unix seconds,
 * then 8 random bytes. The time prefix keeps ids roughly ordered by creation,
 * which keeps the B-tree inserts of the store append-mostly. Randomness comes
 * from OpenSSL's CSPRNG, so ids and keys cannot be guessed. */
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
