/* test_config_file.c: the config file loader (core/config_file.c) and the
 * flag table it shares with the command line (core/serve_flags.c): values
 * land in tc_config, every problem is found with its line, and the table
 * is whole (every row has a checker, every list can be cleared). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config_file.h"
#include "core/serve_flags.h"
#include "util/log.h"

/* Writes text to a fresh file with mode, loads it (complete), and returns
 * load's status; the path is in path[64]. */
static int load_text(const char *text, mode_t mode, tc_config *cfg, config_file_report *rep,
                     char *path) {
    snprintf(path, 64, "/tmp/tocsin-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    serve_flags_defaults(cfg);
    config_file_report_init(rep);
    int status = config_file_load(path, 1, cfg, rep);
    unlink(path);
    return status;
}

static void values_land_in_config(void **state) {
    (void)state;
    tc_config cfg;
    config_file_report rep;
    char path[64];
    const char *text = "# comment\n"
                       "listen = [::1]:9090\n"
                       "data = /var/lib/tocsin\n"
                       "[serve]\n"
                       "log-level = debug ; inline comment\n"
                       "allow-private-targets = true\n"
                       "allow-cidr = 10.0.0.0/8\n"
                       "allow-cidr = fd00::/8\n"
                       "base-url = https://x.example///\n"
                       "rate-limit-event = 5:10\n"
                       "sync = normal\n";
    assert_int_equal(load_text(text, 0600, &cfg, &rep, path), 0);
    assert_int_equal(rep.total, 0);
    assert_string_equal(cfg.listen_host, "::1");
    assert_int_equal(cfg.listen_port, 9090);
    assert_string_equal(cfg.data_dir, "/var/lib/tocsin");
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_int_equal(cfg.allow_private_targets, 1);
    assert_int_equal(cfg.nallow_cidrs, 2);
    assert_string_equal(cfg.allow_cidrs[1], "fd00::/8");
    assert_string_equal(cfg.base_url, "https://x.example");
    assert_true(cfg.rate_event == 5 && cfg.rate_event_burst == 10);
    assert_int_equal(cfg.sync_full, 0);
    /* Untouched settings keep their defaults. */
    assert_int_equal(cfg.max_connections, 1024);
    config_file_report_clear(&rep);
}

static void every_problem_with_its_line(void **state) {
    (void)state;
    tc_config cfg;
    config_file_report rep;
    char path[64];
    const char *text = "bogus\n"                     /* 1: malformed */
                       "listen = nope\n"             /* 2: bad value */
                       "\n"                          /* 3 */
                       "[broken\n"                   /* 4: malformed */
                       "unknown-key = 1\n"           /* 5: unknown */
                       "listen = 1.2.3.4:5\n"        /* 6: twice */
                       "allow-private-targets = 0\n" /* 7: switch */
                       "data =\n";                   /* 8: empty */
    assert_int_equal(load_text(text, 0600, &cfg, &rep, path), -1);
    assert_int_equal(rep.total, 7);
    const int lines[] = {1, 2, 4, 5, 6, 7, 8};
    const char *keys[] = {"",    "listen", "", "unknown-key", "listen", "allow-private-targets",
                          "data"};
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(rep.problems[i].line, lines[i]);
        assert_string_equal(rep.problems[i].key, keys[i]);
    }
    assert_non_null(strstr(rep.problems[4].reason, "first on line 2"));
    config_file_report_clear(&rep);
}

/* A line longer than inih's buffer is one problem, and the lines after it
 * keep their numbers. */
static void long_line_keeps_the_count(void **state) {
    (void)state;
    tc_config cfg;
    config_file_report rep;
    char path[64];
    char text[1024];
    char pad[400];
    memset(pad, 'a', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    snprintf(text, sizeof(text), "node-id = %s\nwhat = 1\n", pad);
    assert_int_equal(load_text(text, 0600, &cfg, &rep, path), -1);
    assert_int_equal(rep.total, 2);
    assert_int_equal(rep.problems[0].line, 1);
    assert_non_null(strstr(rep.problems[0].reason, "longer than"));
    assert_int_equal(rep.problems[1].line, 2);
    assert_string_equal(rep.problems[1].key, "what");
    config_file_report_clear(&rep);
}

static void secrets_need_a_private_file(void **state) {
    (void)state;
    tc_config cfg;
    config_file_report rep;
    char path[64];
    const struct {
        const char *text;
        mode_t mode;
        int ok;
    } cases[] = {
        {"store = postgres://u:S3cretPw@h/db\n", 0644, 0},
        {"store = postgres://u:S3cretPw@h/db\n", 0640, 1},
        {"store = postgres://u@h/db?password=S3cretPw\n", 0604, 0},
        {"store = postgres://u@h/db\n", 0644, 1},
        {"store = postgres://h/db?sslmode=require\n", 0644, 1},
        {"tls-cert = /c\ntls-key = /k\n", 0644, 0},
        {"tls-cert = /c\ntls-key = /k\n", 0600, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int status = load_text(cases[i].text, cases[i].mode, &cfg, &rep, path);
        assert_int_equal(status, cases[i].ok ? 0 : -1);
        if (!cases[i].ok) {
            assert_int_equal(rep.total, 1);
            assert_non_null(strstr(rep.problems[0].reason, "chmod 640"));
            assert_null(strstr(rep.problems[0].reason, "S3cret"));
        }
        config_file_report_clear(&rep);
    }
}

static void complete_checks_pairs(void **state) {
    (void)state;
    tc_config cfg;
    config_file_report rep;
    char path[64];
    assert_int_equal(load_text("tls-key = /k\n", 0600, &cfg, &rep, path), -1);
    assert_int_equal(rep.problems[0].line, 0);
    assert_non_null(strstr(rep.problems[0].reason, "go together"));
    config_file_report_clear(&rep);
}

static void missing_file(void **state) {
    (void)state;
    tc_config cfg;
    config_file_report rep;
    serve_flags_defaults(&cfg);
    config_file_report_init(&rep);
    assert_int_equal(config_file_load("/nonexistent/tocsin.conf", 0, &cfg, &rep), -1);
    assert_int_equal(rep.total, 1);
    assert_int_equal(rep.problems[0].line, 0);
    assert_non_null(strstr(rep.problems[0].reason, "No such file"));
    config_file_report_clear(&rep);
}

/* Every row can be set on both sides: a checker, a name a flag can have,
 * a clear for each list; and the names are unique. */
static void table_is_whole(void **state) {
    (void)state;
    size_t n = serve_flags_count();
    assert_true(n > 0 && n <= SERVE_FLAGS_MAX);
    for (size_t i = 0; i < n; i++) {
        const serve_flag *f = serve_flags_at(i);
        assert_non_null(f->set);
        assert_true(f->name[0] && f->name[0] != '-' && !strchr(f->name, '_'));
        assert_true(f->kind != SERVE_FLAG_LIST || f->clear);
        assert_ptr_equal(serve_flags_find(f->name), f);
        assert_int_equal(serve_flags_index(f), i);
    }
    assert_null(serve_flags_at(n));
    assert_null(serve_flags_find("config")); /* no file names another */
    assert_null(serve_flags_find("help"));
}

static void strict_numbers(void **state) {
    (void)state;
    tc_config cfg;
    tc_err err;
    serve_flags_defaults(&cfg);
    const serve_flag *f = serve_flags_find("max-connections");
    assert_int_equal(serve_flag_apply(f, &cfg, "12abc", &err), -1);
    assert_int_equal(serve_flag_apply(f, &cfg, "99999999999999999999", &err), -1);
    assert_int_equal(serve_flag_apply(f, &cfg, "", &err), -1);
    assert_non_null(strstr(err.message, "needs a value"));
    assert_int_equal(serve_flag_apply(f, &cfg, "100000", &err), 0);
    assert_int_equal(cfg.max_connections, 100000);
    assert_int_equal(serve_flag_apply(f, &cfg, "100001", &err), -1);
    assert_int_equal(cfg.max_connections, 100000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_land_in_config),
        cmocka_unit_test(every_problem_with_its_line),
        cmocka_unit_test(long_line_keeps_the_count),
        cmocka_unit_test(secrets_need_a_private_file),
        cmocka_unit_test(complete_checks_pairs),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(table_is_whole),
        cmocka_unit_test(strict_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
