/* listing.h: the shared parts of list calls (alerts, alert events, webhook
 * history): a WHERE-clause builder, page cursors, comma lists and time text.
 *
 * List calls filter on a varying set of indexed columns, so their SQL is
 * built per request: listing_query collects SQL text and the values of its
 * `?` placeholders side by side, so a value can never be spliced into the
 * text. Placeholders are plain `?` and the SQL is the dialect both store
 * engines share (IN lists, row-value comparison for cursors).
 *
 * A cursor (search_after_ctx) names the last row of a page by its sort key
 * and id: "<key>_<id>", e.g. "1712650000_663a1b2c3d4e5f6789abcdef". The next
 * page is the rows strictly after it in the sort order, so rows written
 * meanwhile never shift a page the way an OFFSET would. */
#ifndef TOCSIN_LISTING_H
#define TOCSIN_LISTING_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

typedef struct {
    int is_text;
    int64_t i;
    const char *s; /* borrowed: must outlive listing_prepare */
    char *owned;   /* or owned (listing_text_take): freed with the query */
} listing_bind;

typedef struct {
    char *sql;
    size_t len, cap;
    listing_bind *binds;
    size_t nbinds, bcap;
    int oom; /* an append failed: listing_prepare reports it */
} listing_query;

void listing_query_init(listing_query *q);
void listing_query_clear(listing_query *q);

/* Appends SQL text as is (never a value). */
void listing_sql(listing_query *q, const char *text);
/* Appends a `?` bound to the value. Text is borrowed, not copied. */
void listing_int(listing_query *q, int64_t v);
/* Appends " LIMIT rows" and, when offset > 0, " OFFSET offset". */
void listing_limit(listing_query *q, int64_t rows, int64_t offset);
void listing_text(listing_query *q, const char *s);
/* The same for text the query takes over (freed by listing_query_clear;
 * NULL: out of memory, reported by listing_prepare). */
void listing_text_take(listing_query *q, char *s);
/* Appends " AND column IN (?,...)" for the integers / strings of arr, or
 * nothing when arr is NULL or empty. Elements are borrowed from arr. */
void listing_in_ints(listing_query *q, const char *column, json_t *arr);
void listing_in_texts(listing_query *q, const char *column, json_t *arr);
/* Same, for a C array of strings. */
void listing_in_strs(listing_query *q, const char *column, const char *const *v, size_t n);

/* Prepares the collected SQL on conn and binds every value. The caller
 * steps it and calls store_stmt_done. */
store_stmt *listing_prepare(store_conn *conn, listing_query *q, tc_err *err);

/* out holds LISTING_CURSOR_MAX bytes. */
#define LISTING_CURSOR_MAX 64
void listing_cursor_encode(int64_t key, const char *id, char *out);
/* Parses a cursor made by listing_cursor_encode; id_out holds 25 bytes.
 * InvalidParameter naming `field` when it is not one. */
int listing_cursor_decode(const char *field, const char *cursor, int64_t *key, char *id_out,
                          tc_err *err);

/* Splits a comma-separated list ("Critical, Warning") whose every item must
 * be one of `allowed`; out[] receives pointers into `allowed`, without
 * repeats. Returns the number of items (0 for an empty text) or -1 with
 * InvalidParameter naming `field` and the allowed values. */
int listing_csv_enum(const char *field, const char *csv, const char *const *allowed,
                     const char **out, size_t max_out, tc_err *err);

/* Milliseconds since the epoch as RFC 3339 text in UTC with milliseconds,
 * e.g. "2026-04-12T05:31:11.357Z". out holds 32 bytes. */
void listing_format_ms(int64_t ms, char *out, size_t size);

#endif
