/* auth.h: app keys: who is calling, and the first-start administrator.
 *
 * Keys are stored only as SHA-256 hex (app_keys.key_hash); a presented key
 * is hashed and looked up by hash, so comparing it never depends on the
 * stored secret's bytes (no timing side channel on the secret). */
#ifndef TOCSIN_AUTH_H
#define TOCSIN_AUTH_H

#include "api/api.h"
#include "core/app.h"
#include "core/events.h"

/* Fills *person and *is_admin for a valid key of an enabled person, else
 * Unauthorized. Uses a reader connection. */
int auth_app_key(tc_app *app, const char *key, tc_person *person, int *is_admin, tc_err *err);

/* On an empty database: creates the administrator and an app key, from
 * TOCSIN_ADMIN_APP_KEY or random (then written to DATA/admin-app-key, 0600).
 * *created is 1 when it did so. Runs through the writer. */
int auth_bootstrap_admin(tc_app *app, int *created, tc_err *err);

/* Stores a new app key for person_id (hash only). Runs inside a command. */
int auth_store_app_key(writer_txn *txn, int64_t person_id, const char *key, const char *name,
                       tc_err *err);

/* AccessDenied "only an administrator may <what>" unless the caller is an
 * administrator: the one rule for every call that changes configuration
 * or makes tocsin call out. */
int api_require_admin(const api_ctx *ctx, const char *what, tc_err *err);

/* A fresh random app key: 32 hex characters. out holds 33 bytes. */
int auth_new_app_key(char *out, tc_err *err);

#endif
