/* store/persons.h: people and their app keys (tables persons, app_keys):
 * who is named in a request and the current name and email of a responder
 * (incidents), the member calls (api/members.c), and the app keys that say
 * who is calling (api/auth.c). Every statement about persons and app keys
 * lives in store/persons.c. */
#ifndef TOCSIN_STORE_PERSONS_H
#define TOCSIN_STORE_PERSONS_H

#include <stdint.h>

#include "core/events.h"
#include "store/store.h"

/* The person person_id unless deleted: 1 with *out filled (id, name and
 * email), 0 when there is none (out untouched), -1 with *err. */
int store_persons_get(store_conn *c, int64_t person_id, tc_person *out, tc_err *err);

/* A whole person row (strings valid during the callback only). */
typedef struct {
    int64_t person_id;
    const char *name, *email, *phone, *country_code, *status, *ref_id, *locale, *time_zone;
    int is_admin;
    int64_t created_at, updated_at;
} store_person_row;

typedef int (*store_person_fn)(void *arg, const store_person_row *p, tc_err *err);

/* The person person_id, deleted ones too: 1 after fn ran on it, 0 when
 * there is none, -1 with *err (fn's failure included). */
int store_persons_read(store_conn *c, int64_t person_id, store_person_fn fn, void *arg,
                       tc_err *err);

/* The filter of /member/list; deleted persons never match. */
typedef struct {
    const char *query; /* NULL or "": everyone; else part of the name, e-mail or
                          phone, compared without regard to ASCII case */
    int64_t role_id;   /* 0: any; 1: administrators; any other: nobody */
    int by_updated;    /* order by updated_at instead of created_at */
    int asc;
} store_person_filter;

/* *total = how many match; then fn for the `limit` matches from `offset`
 * on, in the filter's order (ties by person_id). */
int store_persons_list(store_conn *c, const store_person_filter *f, int64_t limit, int64_t offset,
                       int64_t *total, store_person_fn fn, void *arg, tc_err *err);

/* The id of the person that is not deleted and has this e-mail: 1 with
 * *person_id, 0 when the address is free, -1 with *err. */
int store_persons_email_owner(store_conn *c, const char *email, int64_t *person_id, tc_err *err);

/* A new enabled person (strings NULL: ""); *person_id receives its id. */
typedef struct {
    const char *name, *email, *phone, *country_code, *ref_id, *locale, *time_zone;
    int is_admin;
    int64_t created_at; /* also its updated_at; Unix s */
} store_person_new;

int store_persons_insert(store_conn *c, const store_person_new *p, int64_t *person_id, tc_err *err);

/* How /member/delete names a person. */
typedef enum {
    STORE_PERSON_BY_ID,    /* person_id, deleted ones too */
    STORE_PERSON_BY_NAME,  /* person_name, not deleted */
    STORE_PERSON_BY_EMAIL, /* e-mail (the text is lowered), not deleted */
    STORE_PERSON_BY_PHONE, /* phone, and country_code unless it is "", not deleted */
    STORE_PERSON_BY_REF_ID /* ref_id, not deleted */
} store_person_key;

typedef struct {
    int matches; /* rows found, at most 2 for the text keys */
    /* Of the last row found: */
    int64_t person_id;
    int is_admin;
    int deleted;
} store_person_match;

/* The persons `key` names: person_id for STORE_PERSON_BY_ID, else text
 * (and country_code, NULL: "", for the phone). */
int store_persons_find(store_conn *c, store_person_key key, int64_t person_id, const char *text,
                       const char *country_code, store_person_match *out, tc_err *err);

/* Enabled administrators. */
int store_persons_count_admins(store_conn *c, int64_t *n, tc_err *err);

/* Marks the person deleted (the row stays: incidents name their people)
 * and removes their app keys. */
int store_persons_delete(store_conn *c, int64_t person_id, int64_t now_s, tc_err *err);

/* Whether the person exists (1, *enabled set) or not (0); -1 with *err. */
int store_persons_is_enabled(store_conn *c, int64_t person_id, int *enabled, tc_err *err);

/* Every person ever made, deleted ones included. */
int store_persons_count_all(store_conn *c, int64_t *n, tc_err *err);
/* The highest person id (0 when none). */
int store_persons_max_id(store_conn *c, int64_t *id, tc_err *err);
/* The first start's administrator, "admin", with no e-mail. */
int store_persons_insert_admin(store_conn *c, int64_t now_s, tc_err *err);

/* The enabled person whose app key hashes to key_hash (SHA-256 hex): 1
 * with *out (id, name, email) and *is_admin, 0 when none, -1 with *err. */
int store_persons_by_app_key(store_conn *c, const char *key_hash, tc_person *out, int *is_admin,
                             tc_err *err);
/* Stores an app key of person_id by its hash. */
int store_persons_app_key_insert(store_conn *c, const char *key_hash, int64_t person_id,
                                 const char *name, int64_t created_at_s, tc_err *err);

#endif
