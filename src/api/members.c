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
#include "store/persons.h"
#include "util/jbuild.h"

#define INVITE_MAX 20
#define MEMBER_NAME_MIN 2
#define MEMBER_NAME_MAX 39
#define EMAIL_MAX 254 /* RFC 5321's path limit */
#define PHONE_MAX 20
#define ACCOUNT_ID 1 /* the one account of a tocsin */
#define ADMIN_ROLE_ID 1

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

static json_t *role_ids(const store_person_row *p) {
    return p->is_admin ? json_pack("[i]", ADMIN_ROLE_ID) : json_array();
}

/* MemberItem. */
static json_t *member_item(const store_person_row *p) {
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
static json_t *person_item(const store_person_row *p) {
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
    int64_t other = 0;
    int found = store_persons_email_owner(c, email, &other, err);
    if (found < 0)
        return -1;
    if (found)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "members[%zu].email %s is already used by member %lld", i, email,
                          (long long)other);
    return 0;
}

static int insert_person(writer_txn *txn, invitee *m, tc_err *err) {
    store_person_new p = {.name = m->name,
                          .email = m->email,
                          .phone = m->phone,
                          .country_code = m->country_code,
                          .ref_id = m->ref_id,
                          .locale = m->locale,
                          .time_zone = m->time_zone,
                          .is_admin = m->is_admin,
                          .created_at = txn->now_ms / 1000};
    return store_persons_insert(txn->conn, &p, &m->person_id, err);
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

typedef struct {
    char *query; /* "" = all */
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
    return 0;
}

static int add_member(void *arg, const store_person_row *p, tc_err *err) {
    if (json_array_append_new(arg, member_item(p)) != 0)
        return tc_err_oom(err, "a member list");
    return 0;
}

static int list_page(store_conn *c, const member_filter *f, json_t *items, int64_t *total,
                     tc_err *err) {
    store_person_filter sf = {
        .query = f->query, .role_id = f->role_id, .by_updated = f->by_updated, .asc = f->asc};
    return store_persons_list(c, &sf, f->limit, (f->p - 1) * f->limit, total, add_member, items,
                              err);
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
    static const struct {
        const char *field;
        store_person_key key;
    } by_text[] = {
        {"member_name", STORE_PERSON_BY_NAME},
        {"email", STORE_PERSON_BY_EMAIL},
        {"phone", STORE_PERSON_BY_PHONE},
        {"ref_id", STORE_PERSON_BY_REF_ID},
    };
    store_person_key key = STORE_PERSON_BY_ID;
    for (size_t i = 0; i < sizeof(by_text) / sizeof(by_text[0]); i++) {
        if (strcmp(r->field, by_text[i].field) == 0)
            key = by_text[i].key;
    }
    store_person_match m;
    if (store_persons_find(c, key, r->member_id, r->text, r->country_code, &m, err) != 0)
        return -1;
    if (m.matches > 0) {
        *id = m.person_id;
        *is_admin = m.is_admin;
    }
    char value[300];
    if (r->text)
        snprintf(value, sizeof(value), "%s", r->text);
    else
        snprintf(value, sizeof(value), "%lld", (long long)r->member_id);
    if (m.matches == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s %s does not exist", r->field, value);
    if (m.deleted)
        return tc_err_set(err, TC_INVALID_PARAMETER, "member_id %s is already deleted", value);
    if (m.matches > 1)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "%s %s names more than one member; use member_id", r->field, value);
    return 0;
}

static int delete_cmd(writer_txn *txn, void *argp, tc_err *err) {
    delete_request *r = argp;
    int64_t id = 0, admins = 0;
    int is_admin = 0;
    if (find_member(txn->conn, r, &id, &is_admin, err) != 0)
        return -1;
    if (is_admin) {
        if (store_persons_count_admins(txn->conn, &admins, err) != 0)
            return -1;
        if (admins <= 1) /* nobody could manage tocsin any more */
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "member %lld is the last administrator and cannot be deleted",
                              (long long)id);
    }
    return store_persons_delete(txn->conn, id, txn->now_ms / 1000, err);
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
typedef struct {
    json_t *(*render)(const store_person_row *);
    json_t **out;
} render_arg;

static int render_person(void *argp, const store_person_row *p, tc_err *err) {
    render_arg *a = argp;
    if (!(*a->out = a->render(p)))
        return tc_err_oom(err, "a person");
    return 0;
}

static int load_person(store_conn *c, int64_t id, json_t *(*render)(const store_person_row *),
                       json_t **out, tc_err *err) {
    *out = NULL;
    render_arg a = {render, out};
    return store_persons_read(c, id, render_person, &a, err) < 0 ? -1 : 0;
}

/* MemberInfoResponse: the caller's own profile. */
static json_t *member_info_json(const store_person_row *p) {
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
    int enabled = 0;
    int found = store_persons_is_enabled(txn->conn, r->person_id, &enabled, err);
    if (found < 0)
        return -1;
    if (!found)
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
