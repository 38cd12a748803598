/* members.c: people and their keys: /member/invite, /member/list,
 * /member/delete, /member/info, /person/infos, and tocsin's /app-key/create.
 *
 * A member (a person, in the incident objects) is a row of `persons`; the
 * first start makes person 1, "admin". tocsin has one account and two
 * roles: administrators (account role id 1, is_admin) and everyone else.
 * Inviting and deleting members is the reference's "Members Manage"
 * permission, given to administrators. An invited member is enabled at once
 * (there is no e-mail round trip); an administrator then makes them an app
 * key with /app-key/create, which is shown once and stored as a hash.
 * Deleting a member keeps the row (incidents name their people) with status
 * deleted, and removes their app keys. */
#include "api/api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/params.h"
#include "util/jbuild.h"

#define INVITE_MAX 20
#define MEMBER_NAME_MIN 2
#define MEMBER_NAME_MAX 39
#define EMAIL_MAX 254 /* RFC 5321's path limit */
#define PHONE_MAX 20
#define ACCOUNT_ID 1 /* the one account of a tocsin */
#define ADMIN_ROLE_ID 1

/* Columns read for every person, in this order (see read_person). */
#define PERSON_COLUMNS                                                                             \
    "person_id, person_name, email, phone, country_code, is_admin, status, ref_id, locale,"        \
    " time_zone, created_at, updated_at"

typedef struct {
    int64_t person_id;
    const char *name, *email, *phone, *country_code, *status, *ref_id, *locale, *time_zone;
    int is_admin;
    int64_t created_at, updated_at;
} person_row; /* strings borrowed from the statement, valid until the next step */

static void read_person(store_stmt *q, person_row *p) {
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

/* Phone numbers are shown masked, as the reference's member objects say:
 * the first 3 and last 4 digits stay (the last 2 for short numbers). */
static json_t *masked_phone(const char *phone) {
    char out[PHONE_MAX * 4 + 1];
    size_t n = strlen(phone);
    if (n >= sizeof(out))
        n = sizeof(out) - 1;
    size_t head = n >= 8 ? 3 : 0, tail = n >= 8 ? 4 : (n > 2 ? 2 : n);
    for (size_t i = 0; i < n; i++)
        out[i] = (i < head || i >= n - tail) ? phone[i] : '*';
    out[n] = '\0';
    return json_string(out);
}

static json_t *role_ids(const person_row *p) {
    return p->is_admin ? json_pack("[i]", ADMIN_ROLE_ID) : json_array();
}

/* MemberItem. */
static json_t *member_item(const person_row *p) {
    return json_pack("{s:i, s:I, s:s, s:s, s:o, s:s, s:s, s:s, s:b, s:b, s:s, s:s, s:o, s:b,"
                     " s:s, s:I, s:I}",
                     "account_id", ACCOUNT_ID, "member_id", (json_int_t)p->person_id, "member_name",
                     p->name, "country_code", p->country_code, "phone", masked_phone(p->phone),
                     "email", p->email, "locale", p->locale, "time_zone", p->time_zone,
                     "phone_verified", 0, "email_verified", 0, "avatar", "", "status", p->status,
                     "account_role_ids", role_ids(p), "is_external", 0, "ref_id", p->ref_id,
                     "created_at", (json_int_t)p->created_at, "updated_at",
                     (json_int_t)p->updated_at);
}

/* PersonItem. */
static json_t *person_item(const person_row *p) {
    return json_pack("{s:i, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:s, s:s}", "account_id",
                     ACCOUNT_ID, "person_id", (json_int_t)p->person_id, "person_name", p->name,
                     "avatar", "", "locale", p->locale, "time_zone", p->time_zone, "email",
                     p->email, "phone", masked_phone(p->phone), "phone_verified", 0,
                     "email_verified", 0, "as", "member", "status", p->status);
}

/* Messages of a field inside members[i] name it in full. */
static int in_item(tc_err *err, size_t i) {
    char msg[sizeof(err->message)];
    snprintf(msg, sizeof(msg), "%s", err->message);
    return tc_err_set(err, err->code, "members[%zu].%s", i, msg);
}

/* Invite -------------------------------------------------------------- */

typedef struct {
    char *name, *email, *phone, *country_code, *ref_id, *time_zone;
    const char *locale;
    int is_admin;
    int64_t person_id; /* set by the command */
} invitee;

typedef struct {
    invitee items[INVITE_MAX];
    size_t n;
    json_t *answer; /* built in the command, so it exists iff the members do */
} invite_request;

static void invite_clear(invite_request *r) {
    for (size_t i = 0; i < r->n; i++) {
        invitee *m = &r->items[i];
        free(m->name);
        free(m->email);
        free(m->phone);
        free(m->country_code);
        free(m->ref_id);
        free(m->time_zone);
    }
    r->n = 0;
}

/* A plausible address: one '@' with text on both sides, a dot in the
 * domain, no spaces. Delivery is not tocsin's job, so no more than that. */
static int email_ok(const char *s) {
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || !strchr(at + 1, '.') || !at[1])
        return 0;
    for (; *s; s++) {
        if (isspace((unsigned char)*s) || (unsigned char)*s < 0x20)
            return 0;
    }
    return s[-1] != '.';
}

static int phone_ok(const char *s) {
    if (*s == '+')
        s++;
    size_t digits = 0;
    for (; *s; s++) {
        if (isdigit((unsigned char)*s))
            digits++;
        else if (*s != '-' && *s != ' ')
            return 0;
    }
    return digits >= 5;
}

static int read_invitee(json_t *item, invitee *m, tc_err *err) {
    static const char *const locales[] = {"zh-CN", "en-US", NULL};
    json_t *roles = NULL;
    if (params_string(item, "member_name", PARAM_REQUIRED, MEMBER_NAME_MAX, PARAM_REFUSE, &m->name,
                      err) != 0 ||
        params_string(item, "email", PARAM_OPTIONAL, EMAIL_MAX, PARAM_REFUSE, &m->email, err) !=
            0 ||
        params_string(item, "phone", PARAM_OPTIONAL, PHONE_MAX, PARAM_REFUSE, &m->phone, err) !=
            0 ||
        params_string(item, "country_code", PARAM_OPTIONAL, 8, PARAM_REFUSE, &m->country_code,
                      err) != 0 ||
        params_string(item, "ref_id", PARAM_OPTIONAL, 128, PARAM_REFUSE, &m->ref_id, err) != 0 ||
        params_string(item, "time_zone", PARAM_OPTIONAL, 64, PARAM_REFUSE, &m->time_zone, err) !=
            0 ||
        params_enum(item, "locale", PARAM_OPTIONAL, locales, &m->locale, err) != 0 ||
        params_int64_array(item, "role_ids", PARAM_OPTIONAL, 10, &roles, err) != 0)
        return -1;
    if (utf8_len(m->name) < MEMBER_NAME_MIN)
        return tc_err_set(err, TC_INVALID_PARAMETER, "member_name must be at least %d characters",
                          MEMBER_NAME_MIN);
    if (m->email) {
        for (char *c = m->email; *c; c++) /* addresses compare without case */
            *c = (char)tolower((unsigned char)*c);
        if (*m->email && !email_ok(m->email))
            return tc_err_set(err, TC_INVALID_PARAMETER, "email %s is not an e-mail address",
                              m->email);
    }
    if (m->phone && *m->phone && !phone_ok(m->phone))
        return tc_err_set(err, TC_INVALID_PARAMETER, "phone %s is not a phone number", m->phone);
    if ((!m->email || !*m->email) && (!m->phone || !*m->phone))
        return tc_err_set(err, TC_INVALID_PARAMETER, "email or phone is required");
    size_t i;
    json_t *role;
    json_array_foreach(roles, i, role) {
        m->is_admin |= json_integer_value(role) == ADMIN_ROLE_ID;
    }
    return 0;
}

static int read_invite(json_t *body, invite_request *r, tc_err *err) {
    /* `from` (where the invitation came from) only matters to a console
     * that sends invitation mail; tocsin checks its type and ignores it. */
    static const param_typed ignored[] = {{"from", PARAM_TYPE_STRING}, {NULL, PARAM_TYPE_STRING}};
    json_t *members = NULL;
    if (params_array(body, "members", PARAM_REQUIRED, 1, INVITE_MAX, &members, err) != 0 ||
        params_check_types(body, ignored, err) != 0)
        return -1;
    size_t i;
    json_t *item;
    json_array_foreach(members, i, item) {
        if (!json_is_object(item))
            return tc_err_set(err, TC_INVALID_PARAMETER, "members[%zu] must be an object", i);
        invitee *m = &r->items[r->n++];
        memset(m, 0, sizeof(*m));
        if (read_invitee(item, m, err) != 0)
            return in_item(err, i);
        for (size_t j = 0; j < i && m->email && *m->email; j++) {
            if (r->items[j].email && strcmp(r->items[j].email, m->email) == 0)
                return tc_err_set(err, TC_INVALID_PARAMETER,
                                  "members[%zu].email %s is given twice (also members[%zu])", i,
                                  m->email, j);
        }
    }
    return 0;
}

static int email_free(store_conn *c, size_t i, const char *email, tc_err *err) {
    store_stmt *q = store_prepare(
        c, "SELECT person_id FROM persons WHERE email = ? AND status <> 'deleted'", err);
    if (!q)
        return -1;
    store_bind_text(q, 1, email);
    int step = store_step(q, err);
    int64_t other = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    if (step < 0)
        return -1;
    if (step == STORE_ROW)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "members[%zu].email %s is already used by member %lld", i, email,
                          (long long)other);
    return 0;
}

static int insert_person(writer_txn *txn, invitee *m, tc_err *err) {
    int64_t now = txn->now_ms / 1000;
    store_stmt *st = store_prepare(txn->conn,
                                   "INSERT INTO persons(person_name, email, phone, country_code,"
                                   " is_admin, status, ref_id, locale, time_zone, created_at,"
                                   " updated_at) VALUES(?,?,?,?,?,'enabled',?,?,?,?,?)"
                                   " RETURNING person_id",
                                   err);
    if (!st)
        return -1;
    store_bind_text(st, 1, m->name);
    store_bind_text(st, 2, m->email ? m->email : "");
    store_bind_text(st, 3, m->phone ? m->phone : "");
    store_bind_text(st, 4, m->country_code ? m->country_code : "");
    store_bind_int64(st, 5, m->is_admin);
    store_bind_text(st, 6, m->ref_id ? m->ref_id : "");
    store_bind_text(st, 7, m->locale ? m->locale : "");
    store_bind_text(st, 8, m->time_zone ? m->time_zone : "");
    store_bind_int64(st, 9, now);
    store_bind_int64(st, 10, now);
    int step = store_step(st, err);
    if (step == STORE_ROW)
        m->person_id = store_col_int64(st, 0);
    store_stmt_done(st);
    if (step != STORE_ROW)
        return step < 0 ? -1 : tc_err_set(err, TC_INTERNAL, "person insert returned no id");
    return 0;
}

/* {"items": [{member_id, member_name}, ...]} of the invited members. */
static json_t *invite_answer(const invite_request *r) {
    int failed = 0;
    json_t *items = jb_check(json_array(), &failed);
    for (size_t i = 0; i < r->n; i++)
        jb_append(items,
                  json_pack("{s:I, s:s}", "member_id", (json_int_t)r->items[i].person_id,
                            "member_name", r->items[i].name),
                  &failed);
    if (failed) {
        json_decref(items);
        return NULL;
    }
    return json_pack("{s:o}", "items", items);
}

/* All or nothing: one taken address refuses the whole invitation. */
static int invite_cmd(writer_txn *txn, void *argp, tc_err *err) {
    invite_request *r = argp;
    for (size_t i = 0; i < r->n; i++) {
        invitee *m = &r->items[i];
        if (m->email && *m->email && email_free(txn->conn, i, m->email, err) != 0)
            return -1;
        if (insert_person(txn, m, err) != 0)
            return -1;
    }
    json_decref(r->answer);
    r->answer = invite_answer(r);
    return r->answer ? 0 : tc_err_oom(err, "the answer");
}

static int member_invite(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    invite_request r = {.n = 0};
    int rc = -1;
    if (api_require_admin(ctx, "invite members", err) != 0 || read_invite(body, &r, err) != 0 ||
        writer_run(ctx->app->w, invite_cmd, &r, err) != 0)
        goto out;
    json_t *answer = r.answer;
    r.answer = NULL;
    rc = api_answer(answer, "the answer", data, err);
out:
    json_decref(r.answer); /* built, but its batch was not committed */
    invite_clear(&r);
    return rc;
}

/* List ------------------------------------------------------------------ */

/* One statement per order (the order cannot be a bound parameter); each is
 * prepared once and cached. The query matches name, e-mail or phone. */
#define LIST_WHERE                                                                                 \
    " FROM persons WHERE status <> 'deleted'"                                                      \
    " AND (? = '' OR lower(person_name) LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\'"            \
    "      OR phone LIKE ? ESCAPE '\\')"                                                           \
    " AND (? = 0 OR (? = 1 AND is_admin = 1))"
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

typedef struct {
    char *query;   /* "" = all */
    char *pattern; /* %query% in lower case, LIKE wildcards escaped */
    int64_t role_id, p, limit;
    int by_updated, asc;
} member_filter;

static int read_member_filter(json_t *body, member_filter *f, tc_err *err) {
    static const char *const orders[] = {"created_at", "updated_at", NULL};
    const char *orderby = "created_at";
    if (params_string(body, "query", PARAM_OPTIONAL, 200, PARAM_REFUSE, &f->query, err) != 0 ||
        params_int64(body, "role_id", PARAM_OPTIONAL, 0, INT64_MAX, &f->role_id, err) != 0 ||
        params_enum(body, "orderby", PARAM_OPTIONAL, orders, &orderby, err) != 0 ||
        params_bool(body, "asc", PARAM_OPTIONAL, &f->asc, err) != 0 ||
        params_page(body, 100, 20, &f->p, &f->limit, err) != 0)
        return -1;
    f->by_updated = strcmp(orderby, "updated_at") == 0;
    const char *q = f->query ? f->query : "";
    f->pattern = malloc(strlen(q) * 2 + 3);
    if (!f->pattern)
        return tc_err_oom(err, "a member query");
    char *w = f->pattern;
    *w++ = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            *w++ = '\\';
        *w++ = (char)tolower((unsigned char)*q);
    }
    *w++ = '%';
    *w = '\0';
    return 0;
}

static void bind_member_filter(store_stmt *q, const member_filter *f) {
    store_bind_text(q, 1, f->query ? f->query : "");
    store_bind_text(q, 2, f->pattern);
    store_bind_text(q, 3, f->pattern);
    store_bind_text(q, 4, f->pattern);
    store_bind_int64(q, 5, f->role_id);
    store_bind_int64(q, 6, f->role_id);
}

static int list_page(store_conn *c, const member_filter *f, json_t *items, int64_t *total,
                     tc_err *err) {
    store_stmt *q = store_prepare(c, "SELECT COUNT(*)" LIST_WHERE, err);
    if (!q)
        return -1;
    bind_member_filter(q, f);
    int step = store_step(q, err);
    *total = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    if (step != STORE_ROW)
        return -1;
    q = store_prepare(c, list_sql[f->by_updated][f->asc], err);
    if (!q)
        return -1;
    bind_member_filter(q, f);
    store_bind_int64(q, 7, f->limit);
    store_bind_int64(q, 8, (f->p - 1) * f->limit);
    while ((step = store_step(q, err)) == STORE_ROW) {
        person_row p;
        read_person(q, &p);
        if (json_array_append_new(items, member_item(&p)) != 0) {
            step = tc_err_oom(err, "a member list");
            break;
        }
    }
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

static int member_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    member_filter f = {0};
    json_t *items = json_array();
    int64_t total = 0;
    int rc = items ? read_member_filter(body, &f, err) : tc_err_oom(err, "a member list");
    if (rc == 0) {
        store_conn *c = store_reader_acquire(ctx->app->st);
        rc = list_page(c, &f, items, &total, err);
        store_reader_release(ctx->app->st, c);
    }
    if (rc == 0)
        rc = api_answer(json_pack("{s:I, s:I, s:I, s:O}", "p", (json_int_t)f.p, "limit",
                                  (json_int_t)f.limit, "total", (json_int_t)total, "items", items),
                        "a member list", data, err);
    json_decref(items);
    free(f.query);
    free(f.pattern);
    return rc;
}

/* Delete ---------------------------------------------------------------- */

typedef struct {
    const char *field; /* which lookup field was given */
    int64_t member_id;
    char *text; /* the value of a text lookup field */
    char *country_code;
} delete_request;

/* Finds the one enabled person the request names. */
static int find_member(store_conn *c, delete_request *r, int64_t *id, int *is_admin, tc_err *err) {
    static const char *const by_text[][2] = {
        {"member_name", "SELECT person_id, is_admin, status FROM persons"
                        " WHERE person_name = ? AND status <> 'deleted' LIMIT 2"},
        {"email", "SELECT person_id, is_admin, status FROM persons"
                  " WHERE email = lower(?) AND status <> 'deleted' LIMIT 2"},
        {"phone", "SELECT person_id, is_admin, status FROM persons WHERE phone = ?"
                  " AND (? = '' OR country_code = ?) AND status <> 'deleted' LIMIT 2"},
        {"ref_id", "SELECT person_id, is_admin, status FROM persons"
                   " WHERE ref_id = ? AND status <> 'deleted' LIMIT 2"},
    };
    const char *sql = "SELECT person_id, is_admin, status FROM persons WHERE person_id = ?";
    for (size_t i = 0; i < sizeof(by_text) / sizeof(by_text[0]); i++) {
        if (strcmp(r->field, by_text[i][0]) == 0)
            sql = by_text[i][1];
    }
    int by_phone = strcmp(r->field, "phone") == 0;
    store_stmt *q = store_prepare(c, sql, err);
    if (!q)
        return -1;
    if (r->text) {
        store_bind_text(q, 1, r->text);
        if (by_phone) {
            store_bind_text(q, 2, r->country_code ? r->country_code : "");
            store_bind_text(q, 3, r->country_code ? r->country_code : "");
        }
    } else {
        store_bind_int64(q, 1, r->member_id);
    }
    int matches = 0, deleted = 0, step;
    while ((step = store_step(q, err)) == STORE_ROW) {
        matches++;
        *id = store_col_int64(q, 0);
        *is_admin = store_col_int64(q, 1) != 0;
        deleted = strcmp(store_col_text(q, 2), "deleted") == 0;
    }
    store_stmt_done(q);
    if (step < 0)
        return -1;
    char value[300];
    if (r->text)
        snprintf(value, sizeof(value), "%s", r->text);
    else
        snprintf(value, sizeof(value), "%lld", (long long)r->member_id);
    if (matches == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s %s does not exist", r->field, value);
    if (deleted)
        return tc_err_set(err, TC_INVALID_PARAMETER, "member_id %s is already deleted", value);
    if (matches > 1)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "%s %s names more than one member; use member_id", r->field, value);
    return 0;
}

static int count_admins(store_conn *c, int64_t *n, tc_err *err) {
    store_stmt *q = store_prepare(
        c, "SELECT COUNT(*) FROM persons WHERE is_admin = 1 AND status = 'enabled'", err);
    if (!q)
        return -1;
    int step = store_step(q, err);
    *n = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    return step == STORE_ROW ? 0 : -1;
}

static int delete_cmd(writer_txn *txn, void *argp, tc_err *err) {
    delete_request *r = argp;
    int64_t id = 0, admins = 0;
    int is_admin = 0;
    if (find_member(txn->conn, r, &id, &is_admin, err) != 0)
        return -1;
    if (is_admin) {
        if (count_admins(txn->conn, &admins, err) != 0)
            return -1;
        if (admins <= 1) /* nobody could manage tocsin any more */
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "member %lld is the last administrator and cannot be deleted",
                              (long long)id);
    }
    store_stmt *st = store_prepare(
        txn->conn, "UPDATE persons SET status = 'deleted', updated_at = ? WHERE person_id = ?",
        err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, txn->now_ms / 1000);
    store_bind_int64(st, 2, id);
    if (store_run(st, err) != 0)
        return -1;
    /* The keys would be refused anyway (auth checks the status); removing
     * them keeps a deleted person's secrets out of the store. */
    st = store_prepare(txn->conn, "DELETE FROM app_keys WHERE person_id = ?", err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, id);
    return store_run(st, err);
}

static int read_delete(json_t *body, delete_request *r, tc_err *err) {
    static const char *const text_fields[] = {"member_name", "email", "phone", "ref_id", NULL};
    static const param_typed lookups[] = {
        {"member_name", PARAM_TYPE_STRING}, {"email", PARAM_TYPE_STRING},
        {"phone", PARAM_TYPE_STRING},       {"ref_id", PARAM_TYPE_STRING},
        {NULL, PARAM_TYPE_STRING},
    };
    /* Every lookup field given is checked, even those member_id (or an
     * earlier one) makes unused, so a malformed request is refused whole. */
    if (params_int64(body, "member_id", PARAM_OPTIONAL, 1, INT64_MAX, &r->member_id, err) != 0 ||
        params_string(body, "country_code", PARAM_OPTIONAL, 8, PARAM_REFUSE, &r->country_code,
                      err) != 0 ||
        params_check_types(body, lookups, err) != 0)
        return -1;
    if (r->member_id) {
        r->field = "member_id";
        return 0;
    }
    for (int i = 0; text_fields[i]; i++) {
        if (params_string(body, text_fields[i], PARAM_OPTIONAL, 256, PARAM_REFUSE, &r->text, err) !=
            0)
            return -1;
        if (r->text && *r->text) {
            r->field = text_fields[i];
            return 0;
        }
        free(r->text);
        r->text = NULL;
    }
    return tc_err_set(err, TC_INVALID_PARAMETER,
                      "one of member_id, member_name, email, phone or ref_id is required");
}

static int member_delete(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    delete_request r = {0};
    int rc = -1;
    if (api_require_admin(ctx, "delete members", err) != 0 || read_delete(body, &r, err) != 0)
        goto out;
    rc = api_run_empty(ctx, delete_cmd, &r, data, err);
out:
    free(r.text);
    free(r.country_code);
    return rc;
}

/* Info ------------------------------------------------------------------ */

/* Reads and renders one person by id; *out is NULL when there is none. A
 * rendering that ran out of memory is an error, never "no such person". */
static int load_person(store_conn *c, int64_t id, json_t *(*render)(const person_row *),
                       json_t **out, tc_err *err) {
    *out = NULL;
    store_stmt *q =
        store_prepare(c, "SELECT " PERSON_COLUMNS " FROM persons WHERE person_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, id);
    int step = store_step(q, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW) {
        person_row p;
        read_person(q, &p);
        if (!(*out = render(&p)))
            rc = tc_err_oom(err, "a person");
    }
    store_stmt_done(q);
    return rc;
}

/* MemberInfoResponse: the caller's own profile. */
static json_t *member_info_json(const person_row *p) {
    int failed = 0;
    json_t *o = jb_check(member_item(p), &failed);
    jb_set(o, "account_name", json_string("tocsin"), &failed);
    jb_set(o, "account_email", json_string(""), &failed);
    jb_set(o, "account_avatar", json_string(""), &failed);
    jb_set(o, "domain", json_string(""), &failed);
    if (failed) {
        json_decref(o);
        return NULL;
    }
    json_object_del(o, "created_at");
    json_object_del(o, "updated_at");
    json_object_del(o, "ref_id");
    return o;
}

static int member_info(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    (void)body;
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = load_person(c, ctx->person.person_id, member_info_json, data, err);
    store_reader_release(ctx->app->st, c);
    if (rc == 0 && !*data)
        rc = tc_err_set(err, TC_UNAUTHORIZED, "app_key is not valid");
    return rc;
}

/* PersonItem of each id that names a person (deleted ones too, with their
 * status: incidents keep naming them); unknown ids are left out. */
static int person_infos(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    json_t *ids = NULL;
    if (params_int64_array(body, "person_ids", PARAM_REQUIRED, 1000, &ids, err) != 0)
        return -1;
    json_t *items = json_array();
    if (!items)
        return tc_err_oom(err, "a person list");
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = 0;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        json_t *item = NULL;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = json_integer_value(json_array_get(ids, j)) == json_integer_value(v);
        if (seen)
            continue;
        if ((rc = load_person(c, json_integer_value(v), person_item, &item, err)) != 0)
            break;
        if (item && json_array_append_new(items, item) != 0) {
            rc = tc_err_oom(err, "a person list");
            break;
        }
    }
    store_reader_release(ctx->app->st, c);
    if (rc != 0) {
        json_decref(items);
        return -1;
    }
    return api_answer(json_pack("{s:o}", "items", items), "a person list", data, err);
}

/* App keys -------------------------------------------------------------- */

typedef struct {
    int64_t person_id;
    char *name;
    char key[33];
} app_key_request;

static int app_key_cmd(writer_txn *txn, void *argp, tc_err *err) {
    app_key_request *r = argp;
    store_stmt *q = store_prepare(txn->conn, "SELECT status FROM persons WHERE person_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, r->person_id);
    int step = store_step(q, err);
    int enabled = step == STORE_ROW && strcmp(store_col_text(q, 0), "enabled") == 0;
    store_stmt_done(q);
    if (step < 0)
        return -1;
    if (step == STORE_DONE)
        return tc_err_set(err, TC_INVALID_PARAMETER, "person_id %lld does not exist",
                          (long long)r->person_id);
    if (!enabled)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "person_id %lld is deleted and cannot have app keys",
                          (long long)r->person_id);
    return auth_store_app_key(txn, r->person_id, r->key, r->name ? r->name : "", err);
}

/* tocsin's own call: a new app key for a person, shown once. */
static int app_key_create(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    app_key_request r = {.person_id = ctx->person.person_id};
    int rc = -1;
    if (params_int64(body, "person_id", PARAM_OPTIONAL, 1, INT64_MAX, &r.person_id, err) != 0 ||
        params_string(body, "name", PARAM_OPTIONAL, 64, PARAM_REFUSE, &r.name, err) != 0)
        goto out;
    if (r.person_id != ctx->person.person_id && !ctx->is_admin) {
        tc_err_set(err, TC_ACCESS_DENIED,
                   "only an administrator may create app keys for other people");
        goto out;
    }
    /* The answer before the command: a key stored but never shown would be
     * a key nobody has. */
    if (auth_new_app_key(r.key, err) != 0)
        goto out;
    json_t *answer =
        json_pack("{s:s, s:I}", "app_key", r.key, "person_id", (json_int_t)r.person_id);
    if (!answer) {
        tc_err_oom(err, "the answer");
        goto out;
    }
    if (writer_run(ctx->app->w, app_key_cmd, &r, err) != 0) {
        json_decref(answer);
        goto out;
    }
    *data = answer;
    rc = 0;
out:
    free(r.name);
    return rc;
}

const api_route api_member_routes[] = {
    {"/member/invite", member_invite, API_AUTH_APP_KEY},
    {"/member/list", member_list, API_AUTH_APP_KEY},
    {"/member/delete", member_delete, API_AUTH_APP_KEY},
    {"/member/info", member_info, API_AUTH_APP_KEY},
    {"/person/infos", person_infos, API_AUTH_APP_KEY},
    {"/app-key/create", app_key_create, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
