/* bench/multirow.c: what a multi-row INSERT saves over single-row ones, in
 * instructions per row (run under callgrind by bench/multirow.sh).
 *
 * The table and its indexes are those of `events` (migrations 007 and 011),
 * the rows timeline entries as ingest writes them (a fresh object id each,
 * so every index is appended to), N rows in transactions of BATCH, each
 * committed to a WAL with synchronous=NORMAL (tocsin's writer settings).
 * "single" binds and steps one prepared single-row statement per row;
 * "multi" one statement of BATCH rows per transaction. callgrind counts
 * only inside run_inserts (--toggle-collect). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLS 10

static const char *SCHEMA =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384;"
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, event_id TEXT,"
    " event_time INTEGER NOT NULL, event_type TEXT NOT NULL, object_kind TEXT NOT NULL,"
    " object_id TEXT NOT NULL, channel_id INTEGER NOT NULL DEFAULT 0,"
    " person_id INTEGER NOT NULL DEFAULT 0, feed_ref TEXT NOT NULL DEFAULT '', detail TEXT,"
    " body TEXT);"
    "CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events(event_id)"
    " WHERE event_id IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS events_feed ON events(feed_ref, seq) WHERE feed_ref <> '';";

#define INSERT                                                                                     \
    "INSERT INTO events(event_id, event_time, event_type, object_kind, object_id, channel_id,"     \
    " person_id, feed_ref, detail, body) VALUES"

static void bind_row(sqlite3_stmt *st, int base, int i) {
    char oid[32], detail[96];
    snprintf(oid, sizeof(oid), "6930f%019x", i);
    snprintf(detail, sizeof(detail),
             "{\"severity\":\"Critical\",\"title\":\"disk full on host-%d\"}", i);
    sqlite3_bind_null(st, base + 1);
    sqlite3_bind_int64(st, base + 2, 1764800000000LL + i);
    sqlite3_bind_text(st, base + 3, "i_new", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 4, "incident", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 5, oid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, base + 6, 1);
    sqlite3_bind_int64(st, base + 7, 0);
    sqlite3_bind_text(st, base + 8, oid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, base + 9, detail, -1, SQLITE_TRANSIENT);
    sqlite3_bind_null(st, base + 10);
}

static int check(sqlite3 *db, int rc, const char *what) {
    if (rc == SQLITE_OK || rc == SQLITE_DONE)
        return 0;
    fprintf(stderr, "multirow: %s: %s\n", what, sqlite3_errmsg(db));
    return -1;
}

/* One statement of `rows` rows: "INSERT ... VALUES(?,...),(?,...)...". */
static int prepare(sqlite3 *db, int rows, sqlite3_stmt **st) {
    size_t cap = sizeof(INSERT) + (size_t)rows * (2 * COLS + 3);
    char *sql = malloc(cap);
    if (!sql)
        return -1;
    strcpy(sql, INSERT);
    for (int r = 0; r < rows; r++)
        strcat(sql, r ? ",(?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?)");
    int rc = check(db, sqlite3_prepare_v2(db, sql, -1, st, NULL), "prepare");
    free(sql);
    return rc;
}

/* N rows in transactions of `batch`, written by statements of `per_stmt`
 * rows each (1: single-row; batch: one statement per transaction). */
int run_inserts(sqlite3 *db, int n, int batch, int per_stmt) {
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, per_stmt, &st);
    for (int b = 0; rc == 0 && b < n; b += batch) {
        rc = check(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
        for (int s = b; rc == 0 && s < b + batch; s += per_stmt) {
            for (int i = 0; i < per_stmt; i++)
                bind_row(st, i * COLS, s + i);
            rc = check(db, sqlite3_step(st), "insert");
            sqlite3_reset(st);
        }
        if (rc == 0)
            rc = check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    }
    sqlite3_finalize(st);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[2], "single") != 0 && strcmp(argv[2], "multi") != 0)) {
        fprintf(stderr, "usage: multirow DB single|multi N BATCH\n");
        return 2;
    }
    int n = atoi(argv[3]), batch = atoi(argv[4]);
    if (n <= 0 || batch <= 0 || batch > 3200 || n % batch != 0) {
        fprintf(stderr, "multirow: N and BATCH > 0, BATCH <= 3200, N a multiple of BATCH\n");
        return 2;
    }
    sqlite3 *db = NULL;
    int rc = sqlite3_open(argv[1], &db) == SQLITE_OK ? 0 : -1;
    if (rc == 0)
        rc = check(db, sqlite3_exec(db, SCHEMA, NULL, NULL, NULL), "schema");
    if (rc == 0)
        rc = run_inserts(db, n, batch, strcmp(argv[2], "multi") == 0 ? batch : 1);
    sqlite3_close(db);
    return rc == 0 ? 0 : 1;
}
