/* backup.c: `tocsin backup --data DIR --to FILE`, an online backup of a
 * SQLite install with SQLite's backup API (sqlite3_backup_init/step/finish),
 * taken while tocsin runs and pushes continue.
 *
 * One snapshot, read in steps. The source is opened read-only and a read
 * transaction is begun before the first step; every step then copies the
 * next STORE_BACKUP_STEP_PAGES pages of that same snapshot. Without the
 * open transaction each step would take a snapshot of its own, and SQLite
 * restarts a backup from page 1 whenever another connection wrote between
 * two steps: under a steady burst of pushes it would never finish. In WAL
 * mode a reader never blocks the writer (nor the writer the reader), so
 * holding the snapshot costs tocsin no waiting; its only cost is that
 * checkpoints stop at the snapshot, so the WAL grows by what tocsin writes
 * while the backup runs, and shrinks again at the checkpoints after it.
 *
 * Steps of 1024 pages (4 MiB) are short (a few ms from the page cache; the
 * summary prints the longest), so the copy shares the disk and the cores in
 * small pieces rather than one long read, and a failure is seen early.
 *
 * The copy is written to TO.tmp (mode 0600: it holds app keys and signing
 * secrets), switched to a rollback journal so that it is one file,
 * checked with PRAGMA integrity_check, fsynced, and only then renamed to
 * TO; the folder is fsynced so the rename itself survives a power loss. On
 * any failure TO.tmp is removed and TO is as it was. */
#include "store/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A step that finds the source or the copy busy is tried again after
 * BUSY_PAUSE_MS, for at most BUSY_TRIES times (10 s in all). */
#define BUSY_PAUSE_MS 10
#define BUSY_TRIES 1000

/* Everything one backup holds open; backup_job_clear releases it on every
 * path, and removes the temporary file unless it was renamed. */
typedef struct {
    char *src_path;
    char *tmp_path;
    sqlite3 *src;
    sqlite3 *dst;
    int src_in_tx;
    int tmp_made; /* TO.tmp exists and is ours to remove */
} backup_job;

static void backup_job_clear(backup_job *j) {
    if (j->src) {
        if (j->src_in_tx)
            sqlite3_exec(j->src, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(j->src);
    }
    sqlite3_close(j->dst);
    if (j->tmp_made && j->tmp_path) {
        unlink(j->tmp_path);
        /* A rollback journal left by a copy that failed mid-write. */
        char journal[4200];
        if (snprintf(journal, sizeof(journal), "%s-journal", j->tmp_path) < (int)sizeof(journal))
            unlink(journal);
    }
    free(j->src_path);
    free(j->tmp_path);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void pause_ms(int ms) {
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int db_fail(tc_err *err, sqlite3 *db, const char *what, const char *path) {
    return tc_err_set(err, TC_INTERNAL, "%s %s: %s", what, path, db ? sqlite3_errmsg(db) : "?");
}

/* DATA/tocsin.db, which must be a file. */
static int source_path(backup_job *j, const char *data_dir, tc_err *err) {
    struct stat sb;
    if (!data_dir || !*data_dir)
        return tc_err_set(err, TC_INVALID_PARAMETER, "--data names no folder");
    if (stat(data_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return tc_err_set(err, TC_INVALID_PARAMETER, "--data: no such folder: %s", data_dir);
    if (asprintf(&j->src_path, "%s/tocsin.db", data_dir) < 0) {
        j->src_path = NULL;
        return tc_err_oom(err, "the database's path");
    }
    if (stat(j->src_path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "--data: the folder %s holds no tocsin.db (nothing to back up; an "
                          "install on PostgreSQL is backed up with pg_dump)",
                          data_dir);
    return 0;
}

/* TO must not exist (unless force), nor be a folder; TO.tmp is made empty,
 * mode 0600, which also proves the folder writable before anything is read. */
static int target_prepare(backup_job *j, const char *to, int force, tc_err *err) {
    struct stat sb;
    if (!to || !*to)
        return tc_err_set(err, TC_INVALID_PARAMETER, "--to names no file");
    if (stat(to, &sb) == 0) {
        struct stat src;
        if (stat(j->src_path, &src) == 0 && src.st_dev == sb.st_dev && src.st_ino == sb.st_ino)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "--to: %s is the database being backed up; name another file", to);
        if (S_ISDIR(sb.st_mode))
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "--to: %s is a folder; name the backup file", to);
        if (!force)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "--to: %s exists; choose another name, or --force to replace it", to);
    }
    if (asprintf(&j->tmp_path, "%s.tmp", to) < 0) {
        j->tmp_path = NULL;
        return tc_err_oom(err, "the backup's path");
    }
    /* A journal left by an earlier backup that died would be played back
     * into the new copy when SQLite opens it. */
    char journal[4200];
    if (snprintf(journal, sizeof(journal), "%s-journal", j->tmp_path) >= (int)sizeof(journal))
        return tc_err_set(err, TC_INVALID_PARAMETER, "--to is too long");
    if (unlink(journal) != 0 && errno != ENOENT)
        return tc_err_set(err, TC_INVALID_PARAMETER, "--to: cannot remove the stale %s: %s",
                          journal, strerror(errno));
    int fd = open(j->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "--to: cannot write %s: %s", j->tmp_path,
                          strerror(errno));
    j->tmp_made = 1;
    close(fd);
    return 0;
}

/* The source, read-only, inside the read transaction whose snapshot every
 * step copies; it must be a tocsin database. */
static int source_open(backup_job *j, tc_err *err) {
    if (sqlite3_open_v2(j->src_path, &j->src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return db_fail(err, j->src, "cannot open", j->src_path);
    if (sqlite3_busy_timeout(j->src, 10000) != SQLITE_OK ||
        sqlite3_exec(j->src, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(err, j->src, "cannot read", j->src_path);
    j->src_in_tx = 1;
    /* The snapshot starts with the transaction's first read: this one. */
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(j->src,
                                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                                " AND name = 'schema_migrations'",
                                -1, &q, NULL);
    int found = rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1;
    sqlite3_finalize(q);
    if (rc != SQLITE_OK)
        return db_fail(err, j->src, "cannot read", j->src_path);
    if (!found)
        return tc_err_set(err, TC_INVALID_PARAMETER, "--data: %s is not a tocsin database",
                          j->src_path);
    return 0;
}

/* Copies the snapshot into TO.tmp, STORE_BACKUP_STEP_PAGES at a time. */
static int copy_pages(backup_job *j, FILE *progress, store_backup_summary *s, tc_err *err) {
    if (sqlite3_open_v2(j->tmp_path, &j->dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return db_fail(err, j->dst, "cannot open", j->tmp_path);
    sqlite3_backup *b = sqlite3_backup_init(j->dst, "main", j->src, "main");
    if (!b)
        return db_fail(err, j->dst, "cannot start the backup into", j->tmp_path);
    int rc, busy = 0;
    double last_report = now_ms();
    do {
        double t0 = now_ms();
        rc = sqlite3_backup_step(b, STORE_BACKUP_STEP_PAGES);
        double took = now_ms() - t0;
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            if (++busy > BUSY_TRIES)
                break;
            pause_ms(BUSY_PAUSE_MS);
            continue;
        }
        busy = 0;
        s->steps++;
        if (took > s->longest_step_ms)
            s->longest_step_ms = took;
        if (progress && t0 - last_report >= 5000) {
            int total = sqlite3_backup_pagecount(b);
            fprintf(progress, "backup: %d of %d pages\n", total - sqlite3_backup_remaining(b),
                    total);
            last_report = t0;
        }
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    s->pages = sqlite3_backup_pagecount(b);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        return tc_err_set(err, TC_INTERNAL, "backup of %s into %s failed: %s", j->src_path,
                          j->tmp_path, sqlite3_errstr(rc));
    /* The snapshot is copied: tocsin's checkpoints may go past it again. */
    sqlite3_exec(j->src, "ROLLBACK", NULL, NULL, NULL);
    j->src_in_tx = 0;
    return 0;
}

static int first_row_text(sqlite3 *db, const char *sql, char *out, size_t cap) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* The copy as one file (a rollback journal, not WAL: tocsin switches it
 * back at start), then PRAGMA integrity_check, whose first row is "ok". */
static int check_copy(backup_job *j, tc_err *err) {
    char mode[32] = "", verdict[400] = "";
    if (first_row_text(j->dst, "PRAGMA journal_mode=DELETE", mode, sizeof(mode)) != 0 ||
        strcmp(mode, "delete") != 0)
        return db_fail(err, j->dst, "cannot set the journal mode of", j->tmp_path);
    if (first_row_text(j->dst, "PRAGMA integrity_check", verdict, sizeof(verdict)) != 0)
        return db_fail(err, j->dst, "cannot check", j->tmp_path);
    if (strcmp(verdict, "ok") != 0)
        return tc_err_set(err, TC_INTERNAL, "integrity_check of the copy %s failed: %s",
                          j->tmp_path, verdict);
    if (sqlite3_close(j->dst) != SQLITE_OK)
        return db_fail(err, j->dst, "cannot close", j->tmp_path);
    j->dst = NULL;
    return 0;
}

static int fsync_path(const char *path, int flags, tc_err *err) {
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return tc_err_set(err, TC_INTERNAL, "cannot open %s to fsync it: %s", path,
                          strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return tc_err_set(err, TC_INTERNAL, "fsync of %s failed: %s", path, strerror(e));
    return 0;
}

/* TO.tmp's bytes are durable, then TO is it, then the rename is durable. */
static int publish(backup_job *j, const char *to, tc_err *err) {
    if (fsync_path(j->tmp_path, O_RDONLY, err) != 0)
        return -1;
    if (rename(j->tmp_path, to) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot rename %s to %s: %s", j->tmp_path, to,
                          strerror(errno));
    j->tmp_made = 0;
    char *copy = strdup(to);
    if (!copy)
        return tc_err_oom(err, "the backup's folder");
    int rc = fsync_path(dirname(copy), O_RDONLY | O_DIRECTORY, err);
    free(copy);
    return rc;
}

int store_backup(const store_backup_options *opts, store_backup_summary *summary, tc_err *err) {
    backup_job j = {0};
    store_backup_summary s = {0};
    double t0 = now_ms();
    int rc = -1;
    if (source_path(&j, opts->data_dir, err) != 0 ||
        target_prepare(&j, opts->to, opts->force, err) != 0 || source_open(&j, err) != 0 ||
        copy_pages(&j, opts->progress, &s, err) != 0 || check_copy(&j, err) != 0 ||
        publish(&j, opts->to, err) != 0)
        goto done;
    s.bytes = s.pages * 4096;
    struct stat sb;
    if (stat(opts->to, &sb) == 0)
        s.bytes = sb.st_size;
    s.seconds = (now_ms() - t0) / 1e3;
    if (opts->progress)
        fprintf(opts->progress,
                "backup: %s -> %s: %lld pages (%lld bytes) in %d steps of up to %d pages, "
                "longest step %.1f ms, %.2f s in all; integrity_check ok\n",
                j.src_path, opts->to, (long long)s.pages, (long long)s.bytes, s.steps,
                STORE_BACKUP_STEP_PAGES, s.longest_step_ms, s.seconds);
    if (summary)
        *summary = s;
    rc = 0;
done:
    backup_job_clear(&j);
    return rc;
}
