/* guard.h: which addresses a push may connect to (the SSRF guard).
 *
 * By default a push to a loopback, private (RFC 1918, fc00::/7),
 * link-local, CGNAT (100.64/10), multicast, unspecified or otherwise
 * reserved address (IPv4 and IPv6, including IPv4-mapped IPv6) is refused.
 * `--allow-private-targets` opens them all; `--allow-cidr CIDR` (repeatable)
 * opens one range. The check runs on the RESOLVED address at connect time
 * (libcurl's CURLOPT_OPENSOCKETFUNCTION), so a name that resolves to a
 * public address when checked and a private one when used (DNS rebinding)
 * cannot pass. */
#ifndef TOCSIN_GUARD_H
#define TOCSIN_GUARD_H

#include <curl/curl.h>
#include <stddef.h>
#include <sys/socket.h>

#include "util/err.h"

typedef struct guard guard;

/* cidrs: "10.0.0.0/8", "fd00::/8", "192.168.1.7" (a single address), ...
 * InvalidParameter naming the bad one. */
int guard_new(int allow_private, const char *const *cidrs, size_t ncidrs, guard **out, tc_err *err);
void guard_free(guard *g);

/* 1 when text is a CIDR guard_new takes, else 0: lets the flag checker
 * (core/serve_flags.c) refuse a bad --allow-cidr before anything starts. */
int guard_cidr_valid(const char *text);

/* 1 when a push may connect to addr; else 0 and why (e.g. "127.0.0.1 is a
 * loopback address; start tocsin with --allow-private-targets or
 * --allow-cidr to allow it") in why[why_cap]. */
int guard_allows(const guard *g, const struct sockaddr *addr, char *why, size_t why_cap);

/* Per-transfer context of guard_opensocket (CURLOPT_OPENSOCKETDATA). */
typedef struct {
    const guard *g;
    char refused[256]; /* set when the guard refused an address */
} guard_check;

/* CURLOPT_OPENSOCKETFUNCTION: opens the socket when guard_allows, else
 * returns CURL_SOCKET_BAD (curl then fails with CURLE_COULDNT_CONNECT) and
 * records why in the guard_check. */
curl_socket_t guard_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address);

#endif
