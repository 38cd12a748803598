/* listing.c: see listing.h. */
#include "store/listing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void listing_query_init(listing_query *q) {
    memset(q, 0, sizeof(*q));
}

void listing_query_clear(listing_query *q) {
    for (size_t i = 0; i < q->nbinds; i++)
        free(q->binds[i].owned);
    free(q->sql);
    free(q->binds);
    listing_query_init(q);
}

void listing_sql(listing_query *q, const char *text) {
    size_t n = strlen(text);
    if (q->oom)
        return;
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap ? q->cap : 256;
        while (cap < q->len + n + 1)
            cap *= 2;
        char *grown = realloc(q->sql, cap);
        if (!grown) {
            q->oom = 1;
            return;
        }
        q->sql = grown;
        q->cap = cap;
    }
    memcpy(q->sql + q->len, text, n + 1);
    q->len += n;
}

static void add_bind(listing_query *q, listing_bind b) {
    if (q->oom) {
        free(b.owned);
        return;
    }
    if (q->nbinds == q->bcap) {
        size_t cap = q->bcap ? q->bcap * 2 : 16;
        listing_bind *grown = realloc(q->binds, cap * sizeof(*grown));
        if (!grown) {
            q->oom = 1;
            free(b.owned);
            return;
        }
        q->binds = grown;
        q->bcap = cap;
    }
    q->binds[q->nbinds++] = b;
    listing_sql(q, "?");
}

void listing_int(listing_query *q, int64_t v) {
    add_bind(q, (listing_bind){0, v, NULL, NULL});
}

void listing_limit(listing_query *q, int64_t rows, int64_t offset) {
    listing_sql(q, " LIMIT ");
    listing_int(q, rows);
    if (offset > 0) {
        listing_sql(q, " OFFSET ");
        listing_int(q, offset);
    }
}

void listing_text(listing_query *q, const char *s) {
    add_bind(q, (listing_bind){1, 0, s, NULL});
}

void listing_text_take(listing_query *q, char *s) {
    if (!s) {
        q->oom = 1;
        return;
    }
    add_bind(q, (listing_bind){1, 0, s, s});
}

static void in_open(listing_query *q, const char *column) {
    listing_sql(q, " AND ");
    listing_sql(q, column);
    listing_sql(q, " IN (");
}

void listing_in_ints(listing_query *q, const char *column, json_t *arr) {
    if (!arr || json_array_size(arr) == 0)
        return;
    in_open(q, column);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (i)
            listing_sql(q, ",");
        listing_int(q, json_integer_value(v));
    }
    listing_sql(q, ")");
}

void listing_in_texts(listing_query *q, const char *column, json_t *arr) {
    if (!arr || json_array_size(arr) == 0)
        return;
    in_open(q, column);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (i)
            listing_sql(q, ",");
        listing_text(q, json_string_value(v));
    }
    listing_sql(q, ")");
}

void listing_in_strs(listing_query *q, const char *column, const char *const *v, size_t n) {
    if (n == 0)
        return;
    in_open(q, column);
    for (size_t i = 0; i < n; i++) {
        if (i)
            listing_sql(q, ",");
        listing_text(q, v[i]);
    }
    listing_sql(q, ")");
}

store_stmt *listing_prepare(store_conn *conn, listing_query *q, tc_err *err) {
    if (q->oom || !q->sql) {
        tc_err_oom(err, "building a query");
        return NULL;
    }
    store_stmt *st = store_prepare(conn, q->sql, err);
    if (!st)
        return NULL;
    for (size_t i = 0; i < q->nbinds; i++) {
        if (q->binds[i].is_text)
            store_bind_text(st, (int)i + 1, q->binds[i].s);
        else
            store_bind_int64(st, (int)i + 1, q->binds[i].i);
    }
    return st;
}

void listing_cursor_encode(int64_t key, const char *id, char *out) {
    snprintf(out, LISTING_CURSOR_MAX, "%" PRId64 "_%.24s", key, id);
}

int listing_cursor_decode(const char *field, const char *cursor, int64_t *key, char *id_out,
                          tc_err *err) {
    const char *p = cursor;
    int neg = 0;
    int64_t k = 0;
    size_t digits = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    /* At most 18 digits: no overflow, and more than any real key needs. */
    for (; *p >= '0' && *p <= '9' && digits < 18; p++, digits++)
        k = k * 10 + (*p - '0');
    if (digits == 0 || *p != '_')
        goto bad;
    p++;
    size_t n = 0;
    for (; p[n]; n++) {
        char c = p[n];
        if (n == 24 || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            goto bad;
    }
    if (n == 0)
        goto bad;
    memcpy(id_out, p, n + 1);
    *key = neg ? -k : k;
    return 0;
bad:
    return tc_err_set(err, TC_INVALID_PARAMETER,
                      "%s is not a cursor returned by this call (pass the previous response's "
                      "search_after_ctx as is)",
                      field);
}

static int csv_allowed(const char *item, size_t n, const char *const *allowed, const char **hit) {
    for (int i = 0; allowed[i]; i++) {
        if (strlen(allowed[i]) == n && strncmp(allowed[i], item, n) == 0) {
            *hit = allowed[i];
            return 1;
        }
    }
    return 0;
}

int listing_csv_enum(const char *field, const char *csv, const char *const *allowed,
                     const char **out, size_t max_out, tc_err *err) {
    size_t count = 0;
    const char *p = csv;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        size_t n = (size_t)(p - start);
        while (n && start[n - 1] == ' ')
            n--;
        const char *hit = NULL;
        if (!csv_allowed(start, n, allowed, &hit)) {
            char list[256] = "";
            for (int i = 0; allowed[i]; i++) {
                strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
                strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
            }
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "%s: \"%.*s\" is not one of %s (comma-separated)", field,
                              (int)(n > 64 ? 64 : n), start, list);
        }
        int seen = 0;
        for (size_t i = 0; i < count; i++)
            seen |= out[i] == hit;
        if (!seen && count < max_out)
            out[count++] = hit;
    }
    return (int)count;
}

void listing_format_ms(int64_t ms, char *out, size_t size) {
    if (ms < 0)
        ms = 0;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char date[32];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%03dZ", date, (int)(ms % 1000));
}
