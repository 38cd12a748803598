/* log.h: one-line logfmt logging to stderr.
 * The level is set once at start (before threads run) and read-only after,
 * so it needs no lock. Callers never pass secrets: keys are logged by their
 * id or a short hash prefix only. */
#ifndef TOCSIN_LOG_H
#define TOCSIN_LOG_H

#include <stddef.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level level);
int log_parse_level(const char *name, log_level *out);
void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copies text for use inside a quoted logfmt value: `"` becomes `'` and
 * control characters become spaces, so one message stays one line. */
const char *log_quote(const char *text, char *out, size_t cap);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
