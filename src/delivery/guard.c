/* guard.c: which addresses a push may connect to (the SSRF guard; see
 * guard.h for where it sits: libcurl's CURLOPT_OPENSOCKETFUNCTION, so the
 * check is on the address actually connected to, after DNS).
 *
 * An address is allowed when --allow-private-targets is on, when an
 * --allow-cidr range holds it, or when it is in none of the ranges below:
 * the special-purpose ranges of the IANA IPv4 and IPv6 registries that a
 * webhook endpoint has no business being in. IPv6 forms that carry an IPv4
 * address (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4
 * 2002:AABB:CCDD::) are judged by the IPv4 address inside, since that is
 * where the packets end up; an --allow-cidr IPv4 range opens them too.
 *
 * The ranges are kept as text and parsed by guard_new with the same parser
 * as --allow-cidr, so the table reads like the registries and a typo in it
 * fails loudly (guard_new returns an error) instead of silently. */
#include "delivery/guard.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
} cidr;

/* A blocked range: its text (shown in the refusal), what it is (with its
 * article, for "X is <what> address"), and for IPv6 ranges that carry an
 * IPv4 address, the byte offset of that address (0: none). */
typedef struct {
    const char *text;
    const char *what;
    int embed_at;
} range_def;

/* Order matters: the first range that holds an address names it, so the
 * narrow ones come before the wide ones that contain them. */
static const range_def ipv4_ranges[] = {
    {"0.0.0.0/8", "an unspecified (\"this network\")", 0},
    {"10.0.0.0/8", "a private", 0},
    {"100.64.0.0/10", "a shared (CGNAT)", 0},
    {"127.0.0.0/8", "a loopback", 0},
    {"169.254.0.0/16", "a link-local", 0},
    {"172.16.0.0/12", "a private", 0},
    {"192.0.0.0/24", "a reserved (IETF protocol assignments)", 0},
    {"192.0.2.0/24", "a documentation", 0},
    {"192.88.99.0/24", "a reserved (6to4 relay anycast)", 0},
    {"192.168.0.0/16", "a private", 0},
    {"198.18.0.0/15", "a benchmarking", 0},
    {"198.51.100.0/24", "a documentation", 0},
    {"203.0.113.0/24", "a documentation", 0},
    {"224.0.0.0/4", "a multicast", 0},
    {"255.255.255.255", "a broadcast", 0},
    {"240.0.0.0/4", "a reserved", 0},
};

static const range_def ipv6_ranges[] = {
    /* Carriers of an IPv4 address: judged by that address. */
    {"::ffff:0:0/96", NULL, 12}, /* IPv4-mapped */
    {"64:ff9b::/96", NULL, 12},  /* NAT64 well-known prefix (RFC 6052) */
    {"2002::/16", NULL, 2},      /* 6to4 (RFC 3056) */
    {"::/128", "an unspecified", 0},
    {"::1/128", "a loopback", 0},
    {"64:ff9b:1::/48", "a reserved (local-use NAT64)", 0},
    {"::/8", "a reserved", 0}, /* the rest of it: IPv4-compatible, unassigned */
    {"100::/64", "a discard-only", 0},
    {"2001:db8::/32", "a documentation", 0},
    {"2001::/23", "a reserved (IETF protocol assignments)", 0},
    {"3fff::/20", "a documentation", 0},
    {"fc00::/7", "a private (unique local)", 0},
    {"fe80::/10", "a link-local", 0},
    {"fec0::/10", "a site-local", 0},
    {"ff00::/8", "a multicast", 0},
};

#define NV4 (sizeof(ipv4_ranges) / sizeof(ipv4_ranges[0]))
#define NV6 (sizeof(ipv6_ranges) / sizeof(ipv6_ranges[0]))

struct guard {
    int allow_private;
    cidr v4[NV4];
    cidr v6[NV6];
    size_t nallow;
    cidr *allow;
};

static const char ADVICE[] =
    "; start tocsin with --allow-private-targets or --allow-cidr to allow it";

/* ---- CIDRs ---- */

/* Zeroes the bits past the prefix so that matching compares whole bytes. */
static void cidr_mask(cidr *c) {
    int len = c->family == AF_INET ? 4 : 16;
    for (int i = 0; i < len; i++) {
        int bits = c->prefix - 8 * i;
        if (bits >= 8)
            continue;
        c->addr[i] &= bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
    }
}

/* "a.b.c.d", "a.b.c.d/n", "x::y", "x::y/n". Host bits past the prefix are
 * ignored ("10.1.2.3/8" is 10.0.0.0/8). */
static int cidr_parse(const char *text, cidr *out) {
    char buf[INET6_ADDRSTRLEN + 8];
    if (!text || strlen(text) >= sizeof(buf))
        return -1;
    strcpy(buf, text);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    memset(out, 0, sizeof(*out));
    int max;
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    out->prefix = max;
    if (slash) {
        const char *p = slash + 1;
        size_t n = strlen(p);
        if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
            return -1;
        int v = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] < '0' || p[i] > '9')
                return -1;
            v = v * 10 + (p[i] - '0');
        }
        if (v > max)
            return -1;
        out->prefix = v;
    }
    cidr_mask(out);
    return 0;
}

int guard_cidr_valid(const char *text) {
    cidr c;
    return cidr_parse(text, &c) == 0;
}

static int cidr_holds(const cidr *c, int family, const unsigned char *addr) {
    if (c->family != family)
        return 0;
    int full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, addr, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (addr[full] & mask) == c->addr[full];
}

int guard_new(int allow_private, const char *const *cidrs, size_t ncidrs, guard **out,
              tc_err *err) {
    guard *g = calloc(1, sizeof(*g));
    *out = NULL;
    if (!g || (ncidrs > 0 && !(g->allow = calloc(ncidrs, sizeof(cidr))))) {
        free(g);
        return tc_err_set(err, TC_INTERNAL, "out of memory");
    }
    g->allow_private = allow_private;
    for (size_t i = 0; i < NV4; i++)
        if (cidr_parse(ipv4_ranges[i].text, &g->v4[i]) < 0 || g->v4[i].family != AF_INET)
            goto bad_table;
    for (size_t i = 0; i < NV6; i++)
        if (cidr_parse(ipv6_ranges[i].text, &g->v6[i]) < 0 || g->v6[i].family != AF_INET6)
            goto bad_table;
    for (size_t i = 0; i < ncidrs; i++) {
        if (cidr_parse(cidrs[i], &g->allow[i]) < 0) {
            tc_err_set(err, TC_INVALID_PARAMETER,
                       "--allow-cidr \"%.80s\" is not a valid CIDR: an IPv4 or IPv6 address, "
                       "optionally followed by /prefix (0-32 for IPv4, 0-128 for IPv6)",
                       cidrs[i] ? cidrs[i] : "");
            guard_free(g);
            return -1;
        }
        g->nallow++;
    }
    *out = g;
    return 0;
bad_table:
    guard_free(g);
    return tc_err_set(err, TC_INTERNAL, "guard: a built-in address range does not parse");
}

void guard_free(guard *g) {
    if (!g)
        return;
    free(g->allow);
    free(g);
}

/* ---- classifying ---- */

static int allowed_by_cidr(const guard *g, int family, const unsigned char *addr) {
    for (size_t i = 0; i < g->nallow; i++)
        if (cidr_holds(&g->allow[i], family, addr))
            return 1;
    return 0;
}

/* The blocked IPv4 range holding addr, or -1. */
static int ipv4_blocked(const guard *g, const unsigned char *addr) {
    for (size_t i = 0; i < NV4; i++)
        if (cidr_holds(&g->v4[i], AF_INET, addr))
            return (int)i;
    return -1;
}

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t cap, const char *fmt, ...) {
    va_list ap;
    if (!why || cap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

static int allows_ipv4(const guard *g, const unsigned char *a4, char *why, size_t cap) {
    if (allowed_by_cidr(g, AF_INET, a4))
        return 1;
    int r = ipv4_blocked(g, a4);
    if (r < 0)
        return 1;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, a4, text, sizeof(text));
    say(why, cap, "%s is %s address (%s)%s", text, ipv4_ranges[r].what, ipv4_ranges[r].text,
        ADVICE);
    return 0;
}

static int allows_ipv6(const guard *g, const unsigned char *a6, char *why, size_t cap) {
    char text[INET6_ADDRSTRLEN], text4[INET_ADDRSTRLEN];
    if (allowed_by_cidr(g, AF_INET6, a6))
        return 1;
    for (size_t i = 0; i < NV6; i++) {
        if (!cidr_holds(&g->v6[i], AF_INET6, a6))
            continue;
        inet_ntop(AF_INET6, a6, text, sizeof(text));
        if (ipv6_ranges[i].embed_at) {
            const unsigned char *a4 = a6 + ipv6_ranges[i].embed_at;
            if (allowed_by_cidr(g, AF_INET, a4))
                return 1;
            int r = ipv4_blocked(g, a4);
            if (r < 0)
                return 1;
            inet_ntop(AF_INET, a4, text4, sizeof(text4));
            say(why, cap, "%s carries the IPv4 address %s, %s address (%s)%s", text, text4,
                ipv4_ranges[r].what, ipv4_ranges[r].text, ADVICE);
            return 0;
        }
        say(why, cap, "%s is %s address (%s)%s", text, ipv6_ranges[i].what, ipv6_ranges[i].text,
            ADVICE);
        return 0;
    }
    return 1;
}

int guard_allows(const guard *g, const struct sockaddr *addr, char *why, size_t why_cap) {
    if (why && why_cap > 0)
        why[0] = '\0';
    if (!g || !addr) {
        say(why, why_cap, "no address guard is set up");
        return 0;
    }
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)addr;
        return g->allow_private ||
               allows_ipv4(g, (const unsigned char *)&in->sin_addr, why, why_cap);
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)addr;
        return g->allow_private || allows_ipv6(g, in6->sin6_addr.s6_addr, why, why_cap);
    }
    say(why, why_cap, "address family %d is not IPv4 or IPv6", (int)addr->sa_family);
    return 0;
}

/* Refusing here makes curl try the next resolved address, and fail the
 * transfer with CURLE_COULDNT_CONNECT when none is left. `refused` tells
 * about the last address tried: why it was refused, or empty when it was
 * allowed (then a failure is curl's to explain, e.g. connection refused). */
curl_socket_t guard_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address) {
    guard_check *chk = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN) {
        snprintf(chk->refused, sizeof(chk->refused), "only outgoing connections are allowed");
        return CURL_SOCKET_BAD;
    }
    if (!guard_allows(chk->g, &address->addr, chk->refused, sizeof(chk->refused)))
        return CURL_SOCKET_BAD;
    int type = address->socktype;
#ifdef SOCK_CLOEXEC
    type |= SOCK_CLOEXEC; /* a push's socket is no business of a child process */
#endif
    int fd = socket(address->family, type, address->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}
