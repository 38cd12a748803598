/* alloc_hook.c: see alloc_hook.h. */
#include "alloc_hook.h"
#include "util/jbuild.h"

#include <execinfo.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define HOOK_SYMBOLIZE 1
#endif

/* The real allocators behind the wrapped names (the linker's --wrap). */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);

static atomic_int armed, reached, off_thread, count_curl = 1;
static atomic_long counted, fail_at;
static pthread_t armer;
/* Where the failing allocation was made, kept for alloc_hook_print_stack. */
static void *stack[48];
static int nstack;

/* One counted allocation: 1 when it is the one to fail. */
static int should_fail(void) {
    if (!atomic_load(&armed) || jb_parsing())
        return 0;
    long n = atomic_fetch_add(&counted, 1) + 1;
    if (n != atomic_load(&fail_at))
        return 0;
    atomic_store(&reached, 1);
    atomic_store(&off_thread, !pthread_equal(pthread_self(), armer));
    nstack = backtrace(stack, (int)(sizeof(stack) / sizeof(stack[0])));
    return 1;
}

void *__wrap_malloc(size_t n) {
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size) {
    return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n) {
    return should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s) {
    return should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n) {
    return should_fail() ? NULL : __real_strndup(s, n);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap) {
    if (should_fail()) {
        *out = NULL;
        return -1;
    }
    return __real_vasprintf(out, fmt, ap);
}

int __wrap_asprintf(char **out, const char *fmt, ...) {
    if (should_fail()) {
        *out = NULL;
        return -1;
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = __real_vasprintf(out, fmt, ap);
    va_end(ap);
    return rc;
}

static int curl_fails(void) {
    return atomic_load(&count_curl) && should_fail();
}

static void *curl_hook_malloc(size_t n) {
    return curl_fails() ? NULL : __real_malloc(n);
}

static void *curl_hook_calloc(size_t n, size_t size) {
    return curl_fails() ? NULL : __real_calloc(n, size);
}

static void *curl_hook_realloc(void *p, size_t n) {
    return curl_fails() ? NULL : __real_realloc(p, n);
}

static char *curl_hook_strdup(const char *s) {
    return curl_fails() ? NULL : __real_strdup(s);
}

void alloc_hook_print_stack(void) {
#ifdef HOOK_SYMBOLIZE
    for (int i = 1; i < nstack; i++) {
        char line[512];
        __sanitizer_symbolize_pc(stack[i], "%p %F %L", line, sizeof(line));
        fprintf(stderr, "    #%d %s\n", i, line);
    }
#else
    backtrace_symbols_fd(stack + 1, nstack > 1 ? nstack - 1 : 0, 2);
#endif
}

void alloc_hook_install(void) {
    /* backtrace() loads its unwinder on first use: not in a failing call. */
    nstack = backtrace(stack, 2);
    curl_global_init_mem(CURL_GLOBAL_DEFAULT, curl_hook_malloc, free, curl_hook_realloc,
                         curl_hook_strdup, curl_hook_calloc);
}

void alloc_hook_arm(long n) {
    armer = pthread_self();
    atomic_store(&counted, 0);
    atomic_store(&reached, 0);
    atomic_store(&off_thread, 0);
    atomic_store(&fail_at, n);
    atomic_store(&armed, 1);
}

long alloc_hook_disarm(void) {
    atomic_store(&armed, 0);
    return atomic_load(&counted);
}

int alloc_hook_reached(void) {
    return atomic_load(&reached);
}

int alloc_hook_failed_off_thread(void) {
    return atomic_load(&off_thread);
}

void alloc_hook_count_curl(int on) {
    atomic_store(&count_curl, on);
}
