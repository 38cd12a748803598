/* harness.h: a real tocsin without its HTTP front, for the programs that
 * drive API handlers directly: fuzz/fuzz_openapi.c and
 * tests/unit/test_alloc_failure.c.
 *
 * harness_open assembles a tc_app as main.c does, minus the HTTP front and
 * the delivery dispatcher: a store in a fresh folder under $TMPDIR (or
 * /tmp), the writer thread (no timer tick: nothing runs but the commands
 * the caller sends), and the administrator with a known app key.
 * harness_call runs one handler as http/server.c would, after the body
 * passed the server's checks. harness_close frees it all, folder included,
 * so LeakSanitizer's exit check sees a clean process. */
#ifndef TOCSIN_TEST_HARNESS_H
#define TOCSIN_TEST_HARNESS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "api/auth.h"
#include "core/app.h"
#include "core/state.h"
#include "http/routes.h"

typedef struct {
    char dir[256];
    tc_config cfg; /* app.cfg points here */
    tc_app app;
    tc_state *state; /* the writer's cache */
    tc_person admin;
} harness;

static inline void harness_rm_dir(const char *dir) {
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(dh))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(dh);
    rmdir(dir);
}

static inline int harness_load_state(writer_txn *txn, void *arg, tc_err *err) {
    return state_load(arg, txn->conn, err);
}

/* Everything up to the administrator's key; on failure *err says what. */
static inline int harness_open(harness *h, const char *name, const char *admin_key, tc_err *err) {
    memset(h, 0, sizeof(*h));
    const char *tmp = getenv("TMPDIR");
    snprintf(h->dir, sizeof(h->dir), "%s/tocsin-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp(h->dir))
        return tc_err_set(err, TC_INTERNAL, "cannot make a folder under %s", h->dir);
    tc_config *cfg = &h->cfg;
    h->app.cfg = cfg;
    snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
    cfg->listen_port = 8080;
    snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", h->dir);
    snprintf(cfg->base_url, sizeof(cfg->base_url), "http://127.0.0.1:8080");
    cfg->max_connections = 16;
    cfg->read_timeout_s = 30;
    char db_path[300];
    snprintf(db_path, sizeof(db_path), "%s/tocsin.db", h->dir);
    store_options so = {.path = db_path, .readers = 2, .sync_full = 0};
    int created = 0, is_admin = 0;
    setenv("TOCSIN_ADMIN_APP_KEY", admin_key, 1);
    if (store_open(&so, &h->app.st, err) != 0 || state_new(&h->state, err) != 0 ||
        writer_new(h->app.st, h->app.cfg, &h->app.w, err) != 0)
        return -1;
    writer_set_state(h->app.w, h->state);
    if (writer_run(h->app.w, harness_load_state, h->state, err) != 0 ||
        auth_bootstrap_admin(&h->app, &created, err) != 0 ||
        auth_app_key(&h->app, admin_key, &h->admin, &is_admin, err) != 0)
        return -1;
    if (!is_admin)
        return tc_err_set(err, TC_INTERNAL, "the first person is no administrator");
    return 0;
}

static inline void harness_close(harness *h) {
    writer_free(h->app.w);
    state_free(h->state);
    h->state = NULL;
    store_free(h->app.st);
    h->app.w = NULL;
    h->app.st = NULL;
    if (h->dir[0])
        harness_rm_dir(h->dir);
}

/* Runs the handler of `path` for `who` (NULL: the administrator) with a
 * body the server accepted (a JSON object), as the server would. The
 * caller owns *data on success. An unknown path is InvalidParameter. */
static inline int harness_run(harness *h, const tc_person *who, int is_admin, const char *path,
                              const char *integration_key, json_t *body, json_t **data,
                              tc_err *err) {
    *data = NULL;
    tc_err_clear(err);
    const api_route *r = routes_find(path);
    if (!r)
        return tc_err_set(err, TC_INVALID_PARAMETER, "no route %s", path);
    api_ctx ctx = {.app = &h->app, .request_id = "harness"};
    if (r->auth == API_AUTH_APP_KEY) {
        ctx.person = who ? *who : h->admin;
        ctx.is_admin = who ? is_admin : 1;
    }
    ctx.integration_key = integration_key;
    return r->handler(&ctx, body, data, err);
}

/* harness_run with the body as text, parsed as the server parses it
 * (duplicate keys refused; an object). A body the server would refuse is
 * InvalidParameter here. */
static inline int harness_call(harness *h, const tc_person *who, int is_admin, const char *path,
                               const char *integration_key, const char *body_text, json_t **data,
                               tc_err *err) {
    *data = NULL;
    json_t *body = json_loads(body_text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        return tc_err_set(err, TC_INVALID_PARAMETER, "not a JSON object: %s", body_text);
    }
    int rc = harness_run(h, who, is_admin, path, integration_key, body, data, err);
    json_decref(body);
    return rc;
}

#endif
