/* auth.c: see auth.h. */
#include "api/auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/persons.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/log.h"

int auth_app_key(tc_app *app, const char *key, tc_person *person, int *is_admin, tc_err *err) {
    if (!key || !*key)
        return tc_err_set(err, TC_UNAUTHORIZED, "app_key is required (?app_key=...)");
    if (strlen(key) > 256)
        return tc_err_set(err, TC_UNAUTHORIZED, "app_key is not valid");
    char hash[65];
    ids_sha256_hex(key, strlen(key), hash);
    /* Three outcomes, kept apart: a person (never person 0), Unauthorized
     * (no such key), or InternalError (the store failed: the caller is not
     * told "not valid" for a key that may well be). */
    tc_person found = {0};
    int admin = 0;
    store_conn *c = store_reader_acquire(app->st);
    int rc = store_persons_by_app_key(c, hash, &found, &admin, err);
    store_reader_release(app->st, c);
    if (rc == 0)
        return tc_err_set(err, TC_UNAUTHORIZED, "app_key is not valid");
    if (rc < 0)
        return err->code == TC_INTERNAL ? -1 : tc_err_set(err, TC_INTERNAL, "cannot read app keys");
    if (found.person_id <= 0) {
        log_error("msg=\"app key of no person\" person_id=%lld", (long long)found.person_id);
        return tc_err_set(err, TC_INTERNAL, "the app key names no person");
    }
    *person = found;
    *is_admin = admin;
    return 0;
}

int auth_new_app_key(char *out, tc_err *err) {
    if (ids_random_hex(out, 16) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make a random key");
    return 0;
}

int auth_store_app_key(writer_txn *txn, int64_t person_id, const char *key, const char *name,
                       tc_err *err) {
    char hash[65];
    ids_sha256_hex(key, strlen(key), hash);
    return store_persons_app_key_insert(txn->conn, hash, person_id, name, txn->now_ms / 1000, err);
}

typedef struct {
    const char *key;
    int created;
} bootstrap_arg;

static int bootstrap_cmd(writer_txn *txn, void *argp, tc_err *err) {
    bootstrap_arg *arg = argp;
    int64_t n = 0;
    if (store_persons_count_all(txn->conn, &n, err) != 0)
        return -1;
    if (n != 0)
        return 0;
    if (store_persons_insert_admin(txn->conn, txn->now_ms / 1000, err) != 0)
        return -1;
    /* A failed read must never store the key for person 0. */
    int64_t pid = 0;
    if (store_persons_max_id(txn->conn, &pid, err) != 0)
        return -1;
    if (pid <= 0)
        return tc_err_set(err, TC_INTERNAL, "the administrator was not stored");
    if (auth_store_app_key(txn, pid, arg->key, "admin", err) != 0)
        return -1;
    arg->created = 1;
    return 0;
}

static int write_key_file(const char *dir, const char *key, tc_err *err) {
    char path[1200];
    snprintf(path, sizeof(path), "%s/admin-app-key", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return tc_err_set(err, TC_INTERNAL, "cannot write %s", path);
    fchmod(fd, 0600);
    size_t len = strlen(key);
    int ok = write(fd, key, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    ok = (fsync(fd) == 0) && ok;
    close(fd);
    if (!ok)
        return tc_err_set(err, TC_INTERNAL, "cannot write %s", path);
    return 0;
}

static int count_persons(tc_app *app, int64_t *n, tc_err *err) {
    store_conn *c = store_reader_acquire(app->st);
    int rc = store_persons_count_all(c, n, err);
    store_reader_release(app->st, c);
    return rc;
}

int auth_bootstrap_admin(tc_app *app, int *created, tc_err *err) {
    *created = 0;
    int64_t persons = 0;
    if (count_persons(app, &persons, err) != 0)
        return -1;
    if (persons > 0)
        return 0;
    char random_key[33];
    const char *env = getenv("TOCSIN_ADMIN_APP_KEY");
    if (env && (strlen(env) < 16 || strlen(env) > 256))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "TOCSIN_ADMIN_APP_KEY must be 16 to 256 characters");
    bootstrap_arg arg = {.key = env, .created = 0};
    if (!env) {
        if (auth_new_app_key(random_key, err) != 0)
            return -1;
        arg.key = random_key;
        /* The file is written before the commit: a crash in between leaves a
         * key file beside an empty database, and the next start replaces it.
         * The other order could leave an administrator whose key nobody has. */
        if (write_key_file(app->cfg->data_dir, random_key, err) != 0)
            return -1;
    }
    if (writer_run(app->w, bootstrap_cmd, &arg, err) != 0)
        return -1;
    if (!env && !arg.created) {
        /* Another node on the same database made the administrator first:
         * the key just written was never stored, and must not be shown. */
        char path[1200];
        snprintf(path, sizeof(path), "%s/admin-app-key", app->cfg->data_dir);
        unlink(path);
    }
    *created = arg.created;
    if (arg.created)
        log_info("msg=\"first start: administrator created\" key_source=%s",
                 env ? "TOCSIN_ADMIN_APP_KEY" : "random");
    return 0;
}

int api_require_admin(const api_ctx *ctx, const char *what, tc_err *err) {
    if (!ctx->is_admin)
        return tc_err_set(err, TC_ACCESS_DENIED, "only an administrator may %s", what);
    return 0;
}
