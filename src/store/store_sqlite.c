/* store_sqlite.c: the SQLite engine behind store.h.
 *
 * WAL mode lets the reader pool read while the writer writes. Every commit
 * is made durable (fdatasync of the WAL, store_sync) before the writer
 * answers any request of its batch: that is what "accepted" means. Migrations are
 * numbered SQL files embedded in the binary (cmake/embed.cmake) and applied
 * at open, each in its own transaction, recorded in schema_migrations. */
#include "store/pool.h"
#include "store/store_engine.h"
#include "util/ids.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Statement cache: open addressing over STMT_CACHE_SLOTS, probing at most
 * STMT_CACHE_PROBE slots. A direct-mapped cache made two hot statements that
 * shared a slot re-prepare each other on every event (measured: an eighth of
 * the ingest path); with probing, a statement is evicted only when its whole
 * probe window is taken, which the ~70 fixed statements never cause. */
#define STMT_CACHE_SLOTS 1024
#define STMT_CACHE_PROBE 8

typedef struct sqlite_conn sqlite_conn;

typedef struct {
    store_stmt base;
    sqlite3_stmt *raw;
    sqlite_conn *conn;
    int cached; /* 0: finalized by store_stmt_done */
    int in_use;
    int bind_failed; /* a bind ran out of memory: stepping fails, never runs with NULL */
} sqlite_stmt;

typedef struct sqlite_store sqlite_store;

struct sqlite_conn {
    store_conn base;
    sqlite3 *db;
    sqlite_store *owner; /* set on the writer connection only */
    struct {
        char *sql;
        sqlite_stmt stmt;
    } cache[STMT_CACHE_SLOTS];
};

struct sqlite_store {
    store base;
    sqlite_conn *writer;
    /* The writer's id counters between batches (store.h, "Ids"): read from
     * the tables' highest ids at the first batch, then kept here. */
    int ids_loaded;
    int64_t next_id[STORE_ID_KINDS];
    /* Durability (store_sync): the WAL, opened by us for fdatasync only. */
    char *wal_path;
    int wal_fd; /* -1 until the first sync */
    int sync_full;
    /* Checkpoints run on a thread of their own, with their own connection:
     * copying WAL pages into the database (and that fsync) then overlaps the
     * writer's next batch instead of stalling it inside a COMMIT. */
    sqlite_conn *checkpointer;
    pthread_t checkpoint_thread;
    int checkpoint_running;
    int checkpoint_stop;
    pthread_cond_t checkpoint_wake;
    store_pool readers;
    pthread_mutex_t lock; /* the checkpoint thread's */
};

static const store_engine sqlite_engine;

extern const struct {
    const char *name;
    const char *data;
    size_t len;
} store_migrations[];

static int sqlite_fail(tc_err *err, sqlite3 *db, const char *what) {
    return tc_err_set(err, TC_INTERNAL, "store: %s: %s", what, db ? sqlite3_errmsg(db) : "?");
}

/* sha256_hex(text): the hex SHA-256 of a text value, NULL for NULL. Migrations
 * use it to derive a key's lookup hash from rows written before the hash
 * column existed (003_integration_key_hash.sql). */
static void sql_sha256_hex(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    const unsigned char *text = sqlite3_value_text(argv[0]);
    int len = sqlite3_value_bytes(argv[0]);
    char hex[65];
    ids_sha256_hex(text ? (const char *)text : "", (size_t)len, hex);
    sqlite3_result_text(ctx, hex, 64, SQLITE_TRANSIENT);
}

static int conn_open(const store_options *opts, int reader, sqlite_conn **out, tc_err *err) {
    sqlite_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return tc_err_set(err, TC_INTERNAL, "store: out of memory");
    c->base.engine = &sqlite_engine;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(opts->path, &c->db, flags, NULL) != SQLITE_OK) {
        sqlite_fail(err, c->db, "open");
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    /* busy_timeout covers the short moments a reader waits on a checkpoint.
     * Checkpoints: the checkpoint thread copies WAL pages into the database
     * in the background (PASSIVE), but a PASSIVE checkpoint racing a writer
     * that never pauses never completes, so the WAL would never restart and
     * grows without bound (measured: 1.6 GB after 50,000 events, then a
     * one-second stall truncating it). So the writer keeps SQLite's own
     * autocheckpoint, at a high mark: when the WAL passes ~32 MB, the
     * writer checkpoints right after a commit, when no other writer can
     * race it; the background thread has already copied almost everything,
     * so this is short, and it lets the next transaction restart the WAL. */
    if (sqlite3_create_function_v2(c->db, "sha256_hex", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   sql_sha256_hex, NULL, NULL, NULL) != SQLITE_OK) {
        sqlite_fail(err, c->db, "sha256_hex function");
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    char pragmas[320];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
             "PRAGMA foreign_keys=OFF; PRAGMA cache_size=%d; PRAGMA temp_store=MEMORY;"
             "PRAGMA wal_autocheckpoint=%d; PRAGMA journal_size_limit=67108864;",
             reader ? -2048 : -16384, reader ? 0 : 8192);
    char *msg = NULL;
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        tc_err_set(err, TC_INTERNAL, "store: pragmas: %s", msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

static void conn_close(sqlite_conn *c) {
    if (!c)
        return;
    for (int i = 0; i < STMT_CACHE_SLOTS; i++) {
        sqlite3_finalize(c->cache[i].stmt.raw);
        free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
}

static int migration_number(const char *name) {
    return atoi(name);
}

static int apply_migrations(sqlite_conn *sc, tc_err *err) {
    store_conn *c = &sc->base;
    if (store_exec(c,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                   err) != 0)
        return -1;
    int64_t current = 0;
    store_stmt *q = store_prepare(c, "SELECT COALESCE(MAX(version),0) FROM schema_migrations", err);
    if (!q)
        return -1;
    if (store_step(q, err) == STORE_ROW)
        current = store_col_int64(q, 0);
    store_stmt_done(q);
    int latest = 0;
    for (int i = 0; store_migrations[i].name; i++)
        latest = migration_number(store_migrations[i].name);
    /* A downgrade: this binary does not know the newer tables' invariants,
     * so it must not write to them (README, "Upgrade and downgrade"). */
    if (current > latest)
        return tc_err_set(err, TC_INTERNAL,
                          "store: the database has schema version %lld, newer than this "
                          "tocsin's %d (a downgrade): run the tocsin that made it, or restore "
                          "the backup taken before the upgrade",
                          (long long)current, latest);
    for (int i = 0; store_migrations[i].name; i++) {
        int version = migration_number(store_migrations[i].name);
        if (version <= current)
            continue;
        if (store_begin(c, err) != 0)
            return -1;
        if (store_exec(c, store_migrations[i].data, err) != 0)
            goto fail;
        store_stmt *rec = store_prepare(
            c, "INSERT INTO schema_migrations(version,name,applied_at) VALUES(?,?,strftime('%s'))",
            err);
        if (!rec)
            goto fail;
        store_bind_int64(rec, 1, version);
        store_bind_text(rec, 2, store_migrations[i].name);
        if (store_run(rec, err) != 0)
            goto fail;
        if (store_commit(c, err) != 0)
            goto fail;
        continue;
    fail:
        store_rollback(c);
        return -1;
    }
    return 0;
}

/* The database holds app keys' hashes and integration secrets: never let it
 * be created world-readable, whatever the umask. */
static int create_private_file(const char *path, tc_err *err) {
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0)
        return tc_err_set(err, TC_INTERNAL, "store: cannot create %s", path);
    fchmod(fd, 0600);
    close(fd);
    return 0;
}

#define CHECKPOINT_INTERVAL_MS 200

static void *checkpoint_main(void *arg) {
    sqlite_store *st = arg;
    pthread_setname_np(pthread_self(), "tocsin-ckpt");
    pthread_mutex_lock(&st->lock);
    while (!st->checkpoint_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += CHECKPOINT_INTERVAL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&st->checkpoint_wake, &st->lock, &ts);
        if (st->checkpoint_stop)
            break;
        pthread_mutex_unlock(&st->lock);
        /* PASSIVE never blocks the writer or readers; what it cannot copy
         * now it copies next time. */
        sqlite3_wal_checkpoint_v2(st->checkpointer->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                  NULL);
        pthread_mutex_lock(&st->lock);
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

static int checkpoint_start(sqlite_store *st, const store_options *opts, tc_err *err) {
    if (conn_open(opts, 1, &st->checkpointer, err) != 0)
        return -1;
    if (pthread_create(&st->checkpoint_thread, NULL, checkpoint_main, st) != 0)
        return tc_err_set(err, TC_INTERNAL, "store: cannot start the checkpoint thread");
    st->checkpoint_running = 1;
    return 0;
}

static void checkpoint_stop(sqlite_store *st) {
    if (st->checkpoint_running) {
        pthread_mutex_lock(&st->lock);
        st->checkpoint_stop = 1;
        pthread_cond_signal(&st->checkpoint_wake);
        pthread_mutex_unlock(&st->lock);
        pthread_join(st->checkpoint_thread, NULL);
        st->checkpoint_running = 0;
    }
    conn_close(st->checkpointer);
    st->checkpointer = NULL;
}

/* SQLite counts every allocation it makes in global statistics behind a
 * mutex unless told not to: with one connection per thread and no use for
 * the statistics, that mutex was a tenth of the writer's time
 * (bench/BENCHMARKS.md). It can only be switched off before SQLite starts;
 * if something started it earlier, it simply stays on. */
static void sqlite_configure(void) {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void sq_free(store *base);
static int sq_sync(store *base, tc_err *err);

int store_sqlite_open(const store_options *opts, store **out, tc_err *err) {
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once(&configured, sqlite_configure);
    sqlite_store *st = calloc(1, sizeof(*st));
    if (!st)
        return tc_err_set(err, TC_INTERNAL, "store: out of memory");
    st->base.engine = &sqlite_engine;
    st->wal_fd = -1;
    st->sync_full = opts->sync_full;
    if (asprintf(&st->wal_path, "%s-wal", opts->path) < 0) {
        st->wal_path = NULL;
        free(st);
        return tc_err_set(err, TC_INTERNAL, "store: out of memory");
    }
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->checkpoint_wake, NULL);
    if (create_private_file(opts->path, err) != 0)
        goto fail;
    if (conn_open(opts, 0, &st->writer, err) != 0)
        goto fail;
    st->writer->owner = st;
    if (apply_migrations(st->writer, err) != 0 || sq_sync(&st->base, err) != 0)
        goto fail;
    if (store_pool_init(&st->readers, opts->readers) != 0) {
        tc_err_set(err, TC_INTERNAL, "store: out of memory");
        goto fail;
    }
    for (int i = 0; i < st->readers.n; i++) {
        sqlite_conn *c = NULL;
        if (conn_open(opts, 1, &c, err) != 0)
            goto fail;
        st->readers.conns[i] = &c->base;
    }
    if (checkpoint_start(st, opts, err) != 0)
        goto fail;
    *out = &st->base;
    return 0;
fail:
    sq_free(&st->base);
    return -1;
}

static void sq_free(store *base) {
    sqlite_store *st = (sqlite_store *)base;
    checkpoint_stop(st);
    for (int i = 0; i < st->readers.n; i++)
        conn_close((sqlite_conn *)st->readers.conns[i]);
    store_pool_clear(&st->readers);
    conn_close(st->writer);
    if (st->wal_fd >= 0)
        close(st->wal_fd);
    free(st->wal_path);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->checkpoint_wake);
    free(st);
}

/* Every connection runs synchronous=NORMAL: a COMMIT writes its WAL frames
 * and returns without an fsync, so the writer goes on with its next batch
 * while the disk catches up. Durability comes from here instead: one
 * fdatasync of the WAL makes every transaction committed before it durable,
 * which is exactly what synchronous=FULL does inside each COMMIT, but on
 * the writer's sync thread and for as many batches as committed meanwhile
 * (core/writer.c answers a batch only after the sync that covers it).
 * SQLite itself still syncs the WAL header when it restarts the log and
 * syncs before and after each checkpoint, as it does in NORMAL mode.
 *
 * Our own descriptor of the WAL is safe beside SQLite's: SQLite takes no
 * POSIX locks on the -wal file (those are on the database and -shm files,
 * which closing another descriptor would release), and the -wal file is
 * only removed when the last connection closes, in store_free after this
 * descriptor is no longer used. It is opened at the first sync, once the
 * writer's first transaction has created the file. */
static int sq_sync(store *base, tc_err *err) {
    sqlite_store *st = (sqlite_store *)base;
    if (!st->sync_full)
        return 0;
    if (st->wal_fd < 0) {
        st->wal_fd = open(st->wal_path, O_RDONLY | O_CLOEXEC);
        if (st->wal_fd < 0) {
            if (errno == ENOENT)
                return 0; /* nothing written in WAL mode yet */
            return tc_err_set(err, TC_INTERNAL, "store: cannot open %s: %s", st->wal_path,
                              strerror(errno));
        }
    }
    if (fdatasync(st->wal_fd) != 0)
        return tc_err_set(err, TC_INTERNAL, "store: fdatasync of %s failed: %s", st->wal_path,
                          strerror(errno));
    return 0;
}

static store_conn *sq_writer(store *base) {
    return &((sqlite_store *)base)->writer->base;
}

static store_conn *sq_reader_acquire(store *base) {
    return store_pool_acquire(&((sqlite_store *)base)->readers);
}

static void sq_reader_release(store *base, store_conn *conn) {
    store_pool_release(&((sqlite_store *)base)->readers, conn);
}

static sqlite3 *db_of(store_conn *conn) {
    return ((sqlite_conn *)conn)->db;
}

static int sq_exec(store_conn *conn, const char *sql, tc_err *err) {
    char *msg = NULL;
    if (sqlite3_exec(db_of(conn), sql, NULL, NULL, &msg) != SQLITE_OK) {
        tc_err_set(err, TC_INTERNAL, "store: %s", msg ? msg : sqlite3_errmsg(db_of(conn)));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Every batch begins and commits: through the statement cache, not
 * sqlite3_exec, which parses its text each time. The two parses were 19,900
 * of the 165,200 instructions a batch cost besides its commands
 * (bench/BENCHMARKS.md, "BEGIN and COMMIT through the statement cache"). */
static int sq_begin(store_conn *conn, tc_err *err) {
    return store_run_sql(conn, "BEGIN IMMEDIATE", err);
}

static int sq_commit(store_conn *conn, tc_err *err) {
    return store_run_sql(conn, "COMMIT", err);
}

static void sq_rollback(store_conn *conn) {
    if (!sqlite3_get_autocommit(db_of(conn)))
        sqlite3_exec(db_of(conn), "ROLLBACK", NULL, NULL, NULL);
}

static int sq_in_transaction(store_conn *conn) {
    return !sqlite3_get_autocommit(db_of(conn));
}

/* The slot of a statement's text: its length and its first and last 48
 * bytes, which tell tocsin's statements apart (a collision only costs a
 * probe: the text itself is compared). Hashing every byte of the long
 * INSERTs cost more than the rest of store_prepare on the hot path. */
static unsigned sql_hash(const char *s) {
    size_t n = strlen(s);
    unsigned h = 2166136261u ^ (unsigned)n;
    size_t head = n < 48 ? n : 48;
    for (size_t i = 0; i < head; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    for (size_t i = n > 48 ? n - 48 : head; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* A statement not kept in the cache: finalized by store_stmt_done. */
static store_stmt *stmt_once(sqlite_conn *conn, sqlite3_stmt *raw, tc_err *err) {
    sqlite_stmt *once = calloc(1, sizeof(*once));
    if (!once) {
        sqlite3_finalize(raw);
        tc_err_set(err, TC_INTERNAL, "store: out of memory");
        return NULL;
    }
    once->base.engine = &sqlite_engine;
    once->raw = raw;
    once->conn = conn;
    once->in_use = 1;
    return &once->base;
}

static store_stmt *sq_prepare(store_conn *base, const char *sql, tc_err *err) {
    sqlite_conn *conn = (sqlite_conn *)base;
    unsigned home = sql_hash(sql) % STMT_CACHE_SLOTS;
    int free_slot = -1, victim = -1;
    for (unsigned i = 0; i < STMT_CACHE_PROBE; i++) {
        unsigned slot = (home + i) % STMT_CACHE_SLOTS;
        sqlite_stmt *st = &conn->cache[slot].stmt;
        if (!conn->cache[slot].sql) {
            if (free_slot < 0)
                free_slot = (int)slot;
            continue;
        }
        if (strcmp(conn->cache[slot].sql, sql) == 0) {
            if (st->in_use)
                break; /* nested use of the same statement: a one-off below */
            st->in_use = 1;
            return &st->base;
        }
        if (victim < 0 && !st->in_use)
            victim = (int)slot;
    }
    sqlite3_stmt *raw = NULL;
    if (sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, NULL) != SQLITE_OK) {
        sqlite_fail(err, conn->db, "prepare");
        return NULL;
    }
    int slot = free_slot >= 0 ? free_slot : victim;
    if (slot < 0)
        return stmt_once(conn, raw, err);
    char *copy = strdup(sql);
    if (!copy)
        return stmt_once(conn, raw, err);
    sqlite_stmt *st = &conn->cache[slot].stmt;
    sqlite3_finalize(st->raw);
    free(conn->cache[slot].sql);
    conn->cache[slot].sql = copy;
    st->base.engine = &sqlite_engine;
    st->raw = raw;
    st->conn = conn;
    st->cached = 1;
    st->in_use = 1;
    return &st->base;
}

/* A bind that fails (out of memory copying text) leaves the parameter
 * NULL: `WHERE id = ?` would then match nothing and the statement would
 * "succeed". The failure is kept and stepping refuses to run. */
static void bind_check(sqlite_stmt *stmt, int rc) {
    if (rc != SQLITE_OK)
        stmt->bind_failed = 1;
}

static void sq_bind_int64(store_stmt *base, int idx, int64_t value) {
    sqlite_stmt *stmt = (sqlite_stmt *)base;
    bind_check(stmt, sqlite3_bind_int64(stmt->raw, idx, value));
}

static void sq_bind_text(store_stmt *base, int idx, const char *text, int copy) {
    sqlite_stmt *stmt = (sqlite_stmt *)base;
    if (text)
        bind_check(stmt, sqlite3_bind_text(stmt->raw, idx, text, -1,
                                           copy ? SQLITE_TRANSIENT : SQLITE_STATIC));
    else
        bind_check(stmt, sqlite3_bind_null(stmt->raw, idx));
}

static void sq_bind_null(store_stmt *base, int idx) {
    sqlite_stmt *stmt = (sqlite_stmt *)base;
    bind_check(stmt, sqlite3_bind_null(stmt->raw, idx));
}

static int sq_step(store_stmt *base, tc_err *err) {
    sqlite_stmt *stmt = (sqlite_stmt *)base;
    if (stmt->bind_failed)
        return tc_err_set(err, TC_INTERNAL, "store: a statement parameter could not be bound");
    int rc = sqlite3_step(stmt->raw);
    if (rc == SQLITE_ROW)
        return STORE_ROW;
    if (rc == SQLITE_DONE)
        return STORE_DONE;
    return sqlite_fail(err, stmt->conn->db, "step");
}

static int64_t sq_col_int64(store_stmt *base, int col) {
    return sqlite3_column_int64(((sqlite_stmt *)base)->raw, col);
}

static const char *sq_col_text(store_stmt *base, int col) {
    const unsigned char *t = sqlite3_column_text(((sqlite_stmt *)base)->raw, col);
    return t ? (const char *)t : "";
}

static int sq_col_is_null(store_stmt *base, int col) {
    return sqlite3_column_type(((sqlite_stmt *)base)->raw, col) == SQLITE_NULL;
}

static void sq_stmt_done(store_stmt *base) {
    sqlite_stmt *stmt = (sqlite_stmt *)base;
    if (!stmt->cached) {
        sqlite3_finalize(stmt->raw);
        free(stmt);
        return;
    }
    sqlite3_reset(stmt->raw);
    sqlite3_clear_bindings(stmt->raw);
    stmt->in_use = 0;
    stmt->bind_failed = 0;
}

static int sq_run(store_stmt *stmt, tc_err *err) {
    int rc = sq_step(stmt, err);
    sq_stmt_done(stmt);
    return rc < 0 ? -1 : 0;
}

static int64_t sq_changes(store_conn *conn) {
    return sqlite3_changes64(db_of(conn));
}

/* ---- batches ----------------------------------------------------------- */

/* One writer: the counters are the tables' highest ids, read once. Pruning
 * keeps each table's newest row (delivery/history.c), so a restart reads
 * the same highest ids back and never hands out one twice. */
static int load_ids(sqlite_store *st, tc_err *err) {
    for (int k = 0; k < STORE_ID_KINDS; k++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(%s), 0) + 1 FROM %s", store_id_tables[k][1],
                 store_id_tables[k][0]);
        store_stmt *q = sq_prepare(&st->writer->base, sql, err);
        if (!q)
            return -1;
        int step = sq_step(q, err);
        if (step == STORE_ROW)
            st->next_id[k] = sq_col_int64(q, 0);
        sq_stmt_done(q);
        if (step != STORE_ROW)
            return step < 0 ? -1 : tc_err_set(err, TC_INTERNAL, "store: no highest id");
    }
    st->ids_loaded = 1;
    return 0;
}

static sqlite_store *store_of_writer(store_conn *conn) {
    /* Only the writer connection runs batches; its store is found through
     * the engine's one writer per store. */
    return ((sqlite_conn *)conn)->owner;
}

static int sq_batch_begin(store_conn *conn, store_batch *b, tc_err *err) {
    sqlite_store *st = store_of_writer(conn);
    if (!st)
        return tc_err_set(err, TC_INTERNAL, "store: a batch runs on the writer connection only");
    if (sq_begin(conn, err) != 0)
        return -1;
    if (!st->ids_loaded && load_ids(st, err) != 0) {
        sq_rollback(conn);
        return -1;
    }
    b->seq = b->pruned_seq = 0;
    b->track_changes = 0; /* one process: nobody else has a cache to update */
    memcpy(b->next_id, st->next_id, sizeof(b->next_id));
    memcpy(b->first_id, st->next_id, sizeof(b->first_id));
    return 0;
}

static int sq_batch_commit(store_conn *conn, store_batch *b, tc_err *err) {
    sqlite_store *st = store_of_writer(conn);
    if (sq_commit(conn, err) != 0) {
        sq_rollback(conn);
        return -1;
    }
    memcpy(st->next_id, b->next_id, sizeof(st->next_id));
    b->committed_seq = 0;
    return 0;
}

static const store_engine sqlite_engine = {
    .kind = STORE_ENGINE_SQLITE,
    .free = sq_free,
    .sync = sq_sync,
    .writer = sq_writer,
    .reader_acquire = sq_reader_acquire,
    .reader_release = sq_reader_release,
    .exec = sq_exec,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .in_transaction = sq_in_transaction,
    .prepare = sq_prepare,
    .bind_int64 = sq_bind_int64,
    .bind_text = sq_bind_text,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .run = sq_run,
    .col_int64 = sq_col_int64,
    .col_text = sq_col_text,
    .col_is_null = sq_col_is_null,
    .stmt_done = sq_stmt_done,
    .changes = sq_changes,
    .batch_begin = sq_batch_begin,
    .batch_commit = sq_batch_commit,
};
