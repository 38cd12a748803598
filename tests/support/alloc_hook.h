/* alloc_hook.h: fail the N-th allocation, to test what tocsin does when
 * memory runs out (tests/unit/test_alloc_failure.c).
 *
 * Three allocators are counted, while armed, on every thread:
 *   - tocsin's own calls to malloc, calloc, realloc, strdup, strndup,
 *     asprintf and vasprintf: the test is linked with -Wl,--wrap=... for
 *     each (tests/CMakeLists.txt), which sends the calls of statically
 *     linked code (tocsin_core and the test) to the __wrap_ functions here.
 *     Shared libraries keep their own calls: SQLite's allocator is left
 *     alone on purpose (SQLite reports its own failures, which tocsin
 *     turns into InternalError, and it has benign internal ones);
 *   - jansson's: tocsin gives jansson its own allocator (util/jbuild.c,
 *     which watches for failures), and that allocator's call to malloc is
 *     one of tocsin's, so it is wrapped like the others;
 *   - libcurl's, through curl_global_init_mem (alloc_hook_count_curl
 *     switches them off for calls that push over the network).
 * Only the N-th counted allocation fails; those after it succeed, so the
 * code's way out of the failure runs for real. */
#ifndef TOCSIN_ALLOC_HOOK_H
#define TOCSIN_ALLOC_HOOK_H

/* Installs the libcurl allocators (libcurl's global init is done here).
 * Call first thing in main. */
void alloc_hook_install(void);

/* Counts allocations from now on and fails the n-th (0: fail none). */
void alloc_hook_arm(long n);
/* Stops counting; returns how many were counted while armed. */
long alloc_hook_disarm(void);
/* Whether the n-th allocation was reached (and failed) since arming. */
int alloc_hook_reached(void);
/* Whether it failed on another thread than the one that armed (the writer,
 * in a command). */
int alloc_hook_failed_off_thread(void);
/* libcurl's allocations are counted (1, the default) or not (0). */
void alloc_hook_count_curl(int on);
/* Prints where the last failing allocation was made (symbolized when built
 * with ASan). */
void alloc_hook_print_stack(void);

#endif
