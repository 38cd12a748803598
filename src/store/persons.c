/* store/persons.c: see store/persons.h. */
#include "store/persons.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_persons_get(store_conn *c, int64_t person_id, tc_person *out, tc_err *err) {
    store_stmt *q = store_prepare(
        c, "SELECT person_name, email FROM persons WHERE person_id = ? AND status <> 'deleted'",
        err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, person_id);
    int step = store_step(q, err);
    if (step == STORE_ROW) {
        out->person_id = person_id;
        snprintf(out->person_name, sizeof(out->person_name), "%s", store_col_text(q, 0));
        snprintf(out->email, sizeof(out->email), "%s", store_col_text(q, 1));
    }
    store_stmt_done(q);
    return step < 0 ? -1 : step == STORE_ROW;
}

/* Columns read for every person, in this order (see read_person). */
#define PERSON_COLUMNS                                                                             \
    "person_id, person_name, email, phone, country_code, is_admin, status, ref_id, locale,"        \
    " time_zone, created_at, updated_at"

static void read_person(store_stmt *q, store_person_row *p) {
    p->person_id = store_col_int64(q, 0);
    p->name = store_col_text(q, 1);
    p->email = store_col_text(q, 2);
    p->phone = store_col_text(q, 3);
    p->country_code = store_col_text(q, 4);
    p->is_admin = store_col_int64(q, 5) != 0;
    p->status = store_col_text(q, 6);
    p->ref_id = store_col_text(q, 7);
    p->locale = store_col_text(q, 8);
    p->time_zone = store_col_text(q, 9);
    p->created_at = store_col_int64(q, 10);
    p->updated_at = store_col_int64(q, 11);
}

int store_persons_read(store_conn *c, int64_t person_id, store_person_fn fn, void *arg,
                       tc_err *err) {
    store_stmt *q =
        store_prepare(c, "SELECT " PERSON_COLUMNS " FROM persons WHERE person_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, person_id);
    int step = store_step(q, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW) {
        store_person_row p;
        read_person(q, &p);
        rc = fn(arg, &p, err) != 0 ? -1 : 1;
    }
    store_stmt_done(q);
    return rc;
}

/* One statement per order (the order cannot be a bound parameter); each is
 * prepared once and cached. The query matches name, e-mail or phone; LIKE
 * folds case on SQLite but not on PostgreSQL, so both sides are lowered. */
#define LIST_WHERE                                                                                 \
    " FROM persons WHERE status <> 'deleted'"                                                      \
    " AND (CAST(? AS TEXT) = '' OR lower(person_name) LIKE lower(?) ESCAPE '\\'"                   \
    "      OR lower(email) LIKE lower(?) ESCAPE '\\' OR lower(phone) LIKE lower(?) ESCAPE '\\')"   \
    " AND (CAST(? AS BIGINT) = 0 OR (CAST(? AS BIGINT) = 1 AND is_admin = 1))"
static const char *const list_sql[2][2] = {
    {"SELECT " PERSON_COLUMNS LIST_WHERE
     " ORDER BY created_at DESC, person_id DESC LIMIT ? OFFSET ?",
     "SELECT " PERSON_COLUMNS LIST_WHERE
     " ORDER BY created_at ASC, person_id ASC LIMIT ? OFFSET ?"},
    {"SELECT " PERSON_COLUMNS LIST_WHERE
     " ORDER BY updated_at DESC, person_id DESC LIMIT ? OFFSET ?",
     "SELECT " PERSON_COLUMNS LIST_WHERE
     " ORDER BY updated_at ASC, person_id ASC LIMIT ? OFFSET ?"},
};

/* %query% in lower case, LIKE's wildcards escaped; NULL when out of memory. */
static char *like_pattern(const char *query) {
    char *pattern = malloc(strlen(query) * 2 + 3);
    if (!pattern)
        return NULL;
    char *w = pattern;
    *w++ = '%';
    for (const char *q = query; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            *w++ = '\\';
        *w++ = (char)tolower((unsigned char)*q);
    }
    *w++ = '%';
    *w = '\0';
    return pattern;
}

static void bind_filter(store_stmt *q, const store_person_filter *f, const char *pattern) {
    store_bind_text(q, 1, f->query ? f->query : "");
    store_bind_text(q, 2, pattern);
    store_bind_text(q, 3, pattern);
    store_bind_text(q, 4, pattern);
    store_bind_int64(q, 5, f->role_id);
    store_bind_int64(q, 6, f->role_id);
}

int store_persons_list(store_conn *c, const store_person_filter *f, int64_t limit, int64_t offset,
                       int64_t *total, store_person_fn fn, void *arg, tc_err *err) {
    *total = 0;
    char *pattern = like_pattern(f->query ? f->query : "");
    if (!pattern)
        return tc_err_oom(err, "a member query");
    int rc = -1, step;
    store_stmt *q = store_prepare(c, "SELECT COUNT(*)" LIST_WHERE, err);
    if (!q)
        goto out;
    bind_filter(q, f, pattern);
    step = store_step(q, err);
    *total = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    if (step != STORE_ROW) {
        if (step == STORE_DONE)
            tc_err_set(err, TC_INTERNAL, "counting members returned no row");
        goto out;
    }
    q = store_prepare(c, list_sql[f->by_updated != 0][f->asc != 0], err);
    if (!q)
        goto out;
    bind_filter(q, f, pattern);
    store_bind_int64(q, 7, limit);
    store_bind_int64(q, 8, offset);
    rc = 0;
    while ((step = store_step(q, err)) == STORE_ROW) {
        store_person_row p;
        read_person(q, &p);
        if ((rc = fn(arg, &p, err)) != 0)
            break;
    }
    store_stmt_done(q);
    if (rc == 0 && step < 0)
        rc = -1;
out:
    free(pattern);
    return rc != 0 ? -1 : 0;
}

int store_persons_email_owner(store_conn *c, const char *email, int64_t *person_id, tc_err *err) {
    store_stmt *q = store_prepare(
        c, "SELECT person_id FROM persons WHERE email = ? AND status <> 'deleted'", err);
    if (!q)
        return -1;
    store_bind_text(q, 1, email);
    int step = store_step(q, err);
    *person_id = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    return step < 0 ? -1 : step == STORE_ROW;
}

static const char *or_empty(const char *s) {
    return s ? s : "";
}

int store_persons_insert(store_conn *c, const store_person_new *p, int64_t *person_id,
                         tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "INSERT INTO persons(person_name, email, phone, country_code,"
                                   " is_admin, status, ref_id, locale, time_zone, created_at,"
                                   " updated_at) VALUES(?,?,?,?,?,'enabled',?,?,?,?,?)"
                                   " RETURNING person_id",
                                   err);
    if (!st)
        return -1;
    store_bind_text(st, 1, or_empty(p->name));
    store_bind_text(st, 2, or_empty(p->email));
    store_bind_text(st, 3, or_empty(p->phone));
    store_bind_text(st, 4, or_empty(p->country_code));
    store_bind_int64(st, 5, p->is_admin);
    store_bind_text(st, 6, or_empty(p->ref_id));
    store_bind_text(st, 7, or_empty(p->locale));
    store_bind_text(st, 8, or_empty(p->time_zone));
    store_bind_int64(st, 9, p->created_at);
    store_bind_int64(st, 10, p->created_at);
    int step = store_step(st, err);
    if (step == STORE_ROW)
        *person_id = store_col_int64(st, 0);
    store_stmt_done(st);
    if (step != STORE_ROW)
        return step < 0 ? -1 : tc_err_set(err, TC_INTERNAL, "person insert returned no id");
    return 0;
}

int store_persons_find(store_conn *c, store_person_key key, int64_t person_id, const char *text,
                       const char *country_code, store_person_match *out, tc_err *err) {
    static const char *const sql[] = {
        [STORE_PERSON_BY_ID] = "SELECT person_id, is_admin, status FROM persons"
                               " WHERE person_id = ?",
        [STORE_PERSON_BY_NAME] = "SELECT person_id, is_admin, status FROM persons"
                                 " WHERE person_name = ? AND status <> 'deleted' LIMIT 2",
        [STORE_PERSON_BY_EMAIL] = "SELECT person_id, is_admin, status FROM persons"
                                  " WHERE email = lower(?) AND status <> 'deleted' LIMIT 2",
        [STORE_PERSON_BY_PHONE] = "SELECT person_id, is_admin, status FROM persons WHERE phone = ?"
                                  " AND (CAST(? AS TEXT) = '' OR country_code = ?)"
                                  " AND status <> 'deleted' LIMIT 2",
        [STORE_PERSON_BY_REF_ID] = "SELECT person_id, is_admin, status FROM persons"
                                   " WHERE ref_id = ? AND status <> 'deleted' LIMIT 2",
    };
    memset(out, 0, sizeof(*out));
    store_stmt *q = store_prepare(c, sql[key], err);
    if (!q)
        return -1;
    if (key == STORE_PERSON_BY_ID) {
        store_bind_int64(q, 1, person_id);
    } else {
        store_bind_text(q, 1, text);
        if (key == STORE_PERSON_BY_PHONE) {
            store_bind_text(q, 2, or_empty(country_code));
            store_bind_text(q, 3, or_empty(country_code));
        }
    }
    int step;
    while ((step = store_step(q, err)) == STORE_ROW) {
        out->matches++;
        out->person_id = store_col_int64(q, 0);
        out->is_admin = store_col_int64(q, 1) != 0;
        out->deleted = strcmp(store_col_text(q, 2), "deleted") == 0;
    }
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

/* The one integer a query such as SELECT COUNT(*) returns; a missing row
 * is an error too, never 0. */
static int count_rows(store_conn *c, const char *sql, int64_t *n, tc_err *err) {
    store_stmt *q = store_prepare(c, sql, err);
    if (!q)
        return -1;
    int step = store_step(q, err);
    if (step == STORE_ROW)
        *n = store_col_int64(q, 0);
    store_stmt_done(q);
    if (step == STORE_DONE)
        return tc_err_set(err, TC_INTERNAL, "no row for %s", sql);
    return step == STORE_ROW ? 0 : -1;
}

int store_persons_count_admins(store_conn *c, int64_t *n, tc_err *err) {
    *n = 0;
    return count_rows(c, "SELECT COUNT(*) FROM persons WHERE is_admin = 1 AND status = 'enabled'",
                      n, err);
}

int store_persons_delete(store_conn *c, int64_t person_id, int64_t now_s, tc_err *err) {
    store_stmt *st = store_prepare(
        c, "UPDATE persons SET status = 'deleted', updated_at = ? WHERE person_id = ?", err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, now_s);
    store_bind_int64(st, 2, person_id);
    if (store_run(st, err) != 0)
        return -1;
    /* The keys would be refused anyway (auth checks the status); removing
     * them keeps a deleted person's secrets out of the store. */
    st = store_prepare(c, "DELETE FROM app_keys WHERE person_id = ?", err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, person_id);
    return store_run(st, err);
}

int store_persons_is_enabled(store_conn *c, int64_t person_id, int *enabled, tc_err *err) {
    store_stmt *q = store_prepare(c, "SELECT status FROM persons WHERE person_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, person_id);
    int step = store_step(q, err);
    *enabled = step == STORE_ROW && strcmp(store_col_text(q, 0), "enabled") == 0;
    store_stmt_done(q);
    return step < 0 ? -1 : step == STORE_ROW;
}

int store_persons_count_all(store_conn *c, int64_t *n, tc_err *err) {
    return count_rows(c, "SELECT COUNT(*) FROM persons", n, err);
}

int store_persons_max_id(store_conn *c, int64_t *id, tc_err *err) {
    return count_rows(c, "SELECT MAX(person_id) FROM persons", id, err);
}

int store_persons_insert_admin(store_conn *c, int64_t now_s, tc_err *err) {
    store_stmt *ins = store_prepare(c,
                                    "INSERT INTO persons(person_name,email,is_admin,status,"
                                    "created_at,updated_at) VALUES('admin','',1,'enabled',?,?)",
                                    err);
    if (!ins)
        return -1;
    store_bind_int64(ins, 1, now_s);
    store_bind_int64(ins, 2, now_s);
    return store_run(ins, err);
}

int store_persons_by_app_key(store_conn *c, const char *key_hash, tc_person *out, int *is_admin,
                             tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT p.person_id, p.person_name, p.email, p.is_admin"
                                  " FROM app_keys k JOIN persons p ON p.person_id = k.person_id"
                                  " WHERE k.key_hash = ? AND p.status = 'enabled'",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, key_hash);
    int step = store_step(q, err);
    if (step == STORE_ROW) {
        out->person_id = store_col_int64(q, 0);
        snprintf(out->person_name, sizeof(out->person_name), "%s", store_col_text(q, 1));
        snprintf(out->email, sizeof(out->email), "%s", store_col_text(q, 2));
        *is_admin = (int)store_col_int64(q, 3);
    }
    store_stmt_done(q);
    return step < 0 ? -1 : step == STORE_ROW;
}

int store_persons_app_key_insert(store_conn *c, const char *key_hash, int64_t person_id,
                                 const char *name, int64_t created_at_s, tc_err *err) {
    store_stmt *st = store_prepare(
        c, "INSERT INTO app_keys(key_hash,person_id,name,created_at) VALUES(?,?,?,?)", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, key_hash);
    store_bind_int64(st, 2, person_id);
    store_bind_text(st, 3, name);
    store_bind_int64(st, 4, created_at_s);
    return store_run(st, err);
}
