/* test_guard.c: the address guard (delivery/guard.c): every blocked range
 * on both sides of its edges, IPv4 carried in IPv6, --allow-private-targets
 * and --allow-cidr, bad CIDRs, and a real libcurl transfer to loopback
 * refused (and, with --allow-cidr 127.0.0.0/8, let through to a tiny
 * listener started here). No traffic leaves 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/un.h>
#include <unistd.h>

#include "delivery/guard.h"

/* A sockaddr for an IPv4 or IPv6 address text. */
static void make_addr(const char *text, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(80);
    } else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(80);
    } else {
        fail_msg("test address %s does not parse", text);
    }
}

static guard *make_guard(int allow_private, const char *const *cidrs, size_t n) {
    guard *g = NULL;
    tc_err err;
    if (guard_new(allow_private, cidrs, n, &g, &err) != 0)
        fail_msg("guard_new: %s", err.message);
    return g;
}

/* An expectation: the address, whether it is allowed, and for a refused
 * one a piece of the reason. */
typedef struct {
    const char *addr;
    int allowed;
    const char *mention;
} expect;

static void check_all(const guard *g, const expect *e, size_t n) {
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_storage ss;
        char why[256] = "junk";
        make_addr(e[i].addr, &ss);
        int got = guard_allows(g, (struct sockaddr *)&ss, why, sizeof(why));
        if (got != e[i].allowed)
            fail_msg("%s: allowed=%d, want %d (%s)", e[i].addr, got, e[i].allowed, why);
        if (got) {
            if (why[0] != '\0')
                fail_msg("%s allowed but why=\"%s\"", e[i].addr, why);
            continue;
        }
        if (e[i].mention && !strstr(why, e[i].mention))
            fail_msg("%s: \"%s\" does not mention \"%s\"", e[i].addr, why, e[i].mention);
        if (!strstr(why, "--allow-private-targets") || !strstr(why, "--allow-cidr"))
            fail_msg("%s: \"%s\" does not say how to allow it", e[i].addr, why);
    }
}

#define CHECK_ALL(g, table) check_all(g, table, sizeof(table) / sizeof(table[0]))

static void ipv4_ranges(void **state) {
    (void)state;
    static const expect table[] = {
        {"0.0.0.0", 0, "unspecified"},
        {"0.255.255.255", 0, "0.0.0.0/8"},
        {"1.0.0.0", 1, NULL},
        {"9.255.255.255", 1, NULL},
        {"10.0.0.0", 0, "a private address (10.0.0.0/8)"},
        {"10.255.255.255", 0, "10.0.0.0/8"},
        {"11.0.0.0", 1, NULL},
        {"100.63.255.255", 1, NULL},
        {"100.64.0.0", 0, "CGNAT"},
        {"100.127.255.255", 0, "100.64.0.0/10"},
        {"100.128.0.0", 1, NULL},
        {"126.255.255.255", 1, NULL},
        {"127.0.0.0", 0, "loopback"},
        {"127.0.0.1", 0, "127.0.0.1 is a loopback address (127.0.0.0/8)"},
        {"127.255.255.255", 0, "loopback"},
        {"128.0.0.0", 1, NULL},
        {"169.253.255.255", 1, NULL},
        {"169.254.0.0", 0, "link-local"},
        {"169.254.169.254", 0, "169.254.169.254 is a link-local address"},
        {"169.254.255.255", 0, "169.254.0.0/16"},
        {"169.255.0.0", 1, NULL},
        {"172.15.255.255", 1, NULL},
        {"172.16.0.0", 0, "private"},
        {"172.31.255.255", 0, "172.16.0.0/12"},
        {"172.32.0.0", 1, NULL},
        {"191.255.255.255", 1, NULL},
        {"192.0.0.0", 0, "192.0.0.0/24"},
        {"192.0.0.255", 0, "reserved"},
        {"192.0.1.0", 1, NULL},
        {"192.0.1.255", 1, NULL},
        {"192.0.2.0", 0, "documentation"},
        {"192.0.2.255", 0, "192.0.2.0/24"},
        {"192.0.3.0", 1, NULL},
        {"192.88.98.255", 1, NULL},
        {"192.88.99.0", 0, "6to4 relay"},
        {"192.88.99.255", 0, "192.88.99.0/24"},
        {"192.88.100.0", 1, NULL},
        {"192.167.255.255", 1, NULL},
        {"192.168.0.0", 0, "private"},
        {"192.168.1.1", 0, "192.168.0.0/16"},
        {"192.168.255.255", 0, "192.168.0.0/16"},
        {"192.169.0.0", 1, NULL},
        {"198.17.255.255", 1, NULL},
        {"198.18.0.0", 0, "benchmarking"},
        {"198.19.255.255", 0, "198.18.0.0/15"},
        {"198.20.0.0", 1, NULL},
        {"198.51.99.255", 1, NULL},
        {"198.51.100.0", 0, "documentation"},
        {"198.51.100.255", 0, "198.51.100.0/24"},
        {"198.51.101.0", 1, NULL},
        {"203.0.112.255", 1, NULL},
        {"203.0.113.0", 0, "documentation"},
        {"203.0.113.255", 0, "203.0.113.0/24"},
        {"203.0.114.0", 1, NULL},
        {"223.255.255.255", 1, NULL},
        {"224.0.0.0", 0, "multicast"},
        {"239.255.255.255", 0, "224.0.0.0/4"},
        {"240.0.0.0", 0, "a reserved address (240.0.0.0/4)"},
        {"255.255.255.254", 0, "240.0.0.0/4"},
        {"255.255.255.255", 0, "broadcast"},
        /* Public addresses. */
        {"8.8.8.8", 1, NULL},
        {"1.1.1.1", 1, NULL},
        {"93.184.216.34", 1, NULL},
    };
    guard *g = make_guard(0, NULL, 0);
    CHECK_ALL(g, table);
    guard_free(g);
}

static void ipv6_ranges(void **state) {
    (void)state;
    static const expect table[] = {
        {"::", 0, ":: is an unspecified address (::/128)"},
        {"::1", 0, "::1 is a loopback address (::1/128)"},
        {"::2", 0, "reserved"}, /* the rest of ::/8 is reserved */
        {"ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "::/8"},
        {"100::", 0, "discard-only"},
        {"100::ffff:ffff:ffff:ffff", 0, "100::/64"},
        {"100:0:0:1::", 1, NULL},
        {"1ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, NULL},
        {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, NULL},
        {"2001::", 0, "2001::/23"},
        {"2001:0:4136:e378::1", 0, "reserved"}, /* Teredo */
        {"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "2001::/23"},
        {"2001:200::", 1, NULL},
        {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 1, NULL},
        {"2001:db8::", 0, "documentation"},
        {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 0, "2001:db8::/32"},
        {"2001:db9::", 1, NULL},
        {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, NULL},
        {"3fff::", 0, "documentation"},
        {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "3fff::/20"},
        {"3fff:1000::", 1, NULL},
        {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, NULL},
        {"fc00::", 0, "unique local"},
        {"fd12:3456::1", 0, "fc00::/7"},
        {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "fc00::/7"},
        {"fe00::", 1, NULL},
        {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, NULL},
        {"fe80::", 0, "link-local"},
        {"fe80::1", 0, "fe80::/10"},
        {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "fe80::/10"},
        {"fec0::", 0, "site-local"},
        {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "fec0::/10"},
        {"ff00::", 0, "multicast"},
        {"ff02::1", 0, "ff00::/8"},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "multicast"},
        /* Public addresses. */
        {"2606:4700:4700::1111", 1, NULL},
        {"2a00:1450:4001::1", 1, NULL},
    };
    guard *g = make_guard(0, NULL, 0);
    CHECK_ALL(g, table);
    guard_free(g);
}

static void ipv4_inside_ipv6(void **state) {
    (void)state;
    static const expect table[] = {
        /* IPv4-mapped: judged by the IPv4 address. */
        {"::ffff:127.0.0.1", 0,
         "::ffff:127.0.0.1 carries the IPv4 address 127.0.0.1, a loopback address (127.0.0.0/8)"},
        {"::ffff:10.1.2.3", 0, "a private address (10.0.0.0/8)"},
        {"::ffff:169.254.169.254", 0, "link-local"},
        {"::ffff:0.0.0.0", 0, "unspecified"},
        {"::ffff:255.255.255.255", 0, "broadcast"},
        {"::ffff:8.8.8.8", 1, NULL},
        /* Just outside ::ffff:0:0/96: the reserved rest of ::/8. */
        {"::fffe:ffff:ffff", 0, "::/8"},
        {"::1:0:0:0", 0, "::/8"},
        /* NAT64 well-known prefix. */
        {"64:ff9b::7f00:1", 0, "carries the IPv4 address 127.0.0.1, a loopback"},
        {"64:ff9b::192.168.0.1", 0, "192.168.0.0/16"},
        {"64:ff9b::808:808", 1, NULL},
        {"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", 0, "::/8"},
        {"64:ff9b:0:0:0:1::", 0, "::/8"},
        {"64:ff9b:1::808:808", 0, "local-use NAT64"},
        /* 6to4. */
        {"2002:7f00:1::", 0, "carries the IPv4 address 127.0.0.1"},
        {"2002:c0a8:101::1", 0, "192.168.0.0/16"},
        {"2002:808:808::1", 1, NULL},
        {"2003::1", 1, NULL},
    };
    guard *g = make_guard(0, NULL, 0);
    CHECK_ALL(g, table);
    guard_free(g);
}

static void allow_private_opens_everything(void **state) {
    (void)state;
    static const expect table[] = {
        {"127.0.0.1", 1, NULL},
        {"10.0.0.1", 1, NULL},
        {"169.254.169.254", 1, NULL},
        {"224.0.0.1", 1, NULL},
        {"255.255.255.255", 1, NULL},
        {"::1", 1, NULL},
        {"fc00::1", 1, NULL},
        {"::ffff:10.0.0.1", 1, NULL},
        {"64:ff9b::7f00:1", 1, NULL},
        {"8.8.8.8", 1, NULL},
        {"2606:4700:4700::1111", 1, NULL},
    };
    guard *g = make_guard(1, NULL, 0);
    CHECK_ALL(g, table);
    guard_free(g);
}

static void allow_cidr_opens_its_range(void **state) {
    (void)state;
    static const char *const cidrs[] = {"127.0.0.0/8", "fd00::/8", "192.168.1.7", "10.1.2.3/16",
                                        "fe80::1"};
    static const expect table[] = {
        {"127.0.0.1", 1, NULL},
        {"127.255.255.255", 1, NULL},
        /* The IPv4 range opens its IPv4-mapped and NAT64 forms too. */
        {"::ffff:127.0.0.1", 1, NULL},
        {"64:ff9b::7f00:1", 1, NULL},
        {"2002:7f00:1::", 1, NULL},
        {"::1", 0, "loopback"},
        {"fd00::", 1, NULL},
        {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, NULL},
        {"fc00::1", 0, "fc00::/7"},
        {"fe00::", 1, NULL},
        /* A single address is a /32 or /128. */
        {"192.168.1.7", 1, NULL},
        {"192.168.1.6", 0, "192.168.0.0/16"},
        {"192.168.1.8", 0, "192.168.0.0/16"},
        {"fe80::1", 1, NULL},
        {"fe80::2", 0, "link-local"},
        /* Host bits past the prefix are ignored: 10.1.2.3/16 is 10.1.0.0/16. */
        {"10.1.0.0", 1, NULL},
        {"10.1.255.255", 1, NULL},
        {"10.0.255.255", 0, "10.0.0.0/8"},
        {"10.2.0.0", 0, "10.0.0.0/8"},
        /* Other ranges stay closed. */
        {"172.16.0.1", 0, "private"},
        {"169.254.169.254", 0, "link-local"},
        {"8.8.8.8", 1, NULL},
    };
    guard *g = make_guard(0, cidrs, sizeof(cidrs) / sizeof(cidrs[0]));
    CHECK_ALL(g, table);
    guard_free(g);

    static const char *const all[] = {"0.0.0.0/0", "::/0"};
    static const expect table_all[] = {
        {"127.0.0.1", 1, NULL}, {"240.0.0.1", 1, NULL}, {"::1", 1, NULL}, {"ff02::1", 1, NULL}};
    g = make_guard(0, all, 2);
    CHECK_ALL(g, table_all);
    guard_free(g);
}

static void bad_cidrs_are_named(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "10.0.0.0/33",
        "::/129",
        "10.0.0.0/",
        "10.0.0.0/8/8",
        "10.0.0/8",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "10.0.0.0/08",
        "10.0.0.0/1000",
        "abc",
        "fe80::1%eth0",
        "[::1]",
        " 10.0.0.0/8",
        "10.0.0.0 /8",
        "1.2.3.4.5",
        "256.0.0.0",
        "10.0.0.0/8 ",
        "/8",
        "::1/x",
        "1:2:3:4:5:6:7:8:9",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *list[] = {"127.0.0.0/8", bad[i]};
        guard *g = (guard *)0x1;
        tc_err err;
        tc_err_clear(&err);
        if (guard_new(0, list, 2, &g, &err) != -1)
            fail_msg("guard_new accepted \"%s\"", bad[i]);
        assert_null(g);
        assert_int_equal(err.code, TC_INVALID_PARAMETER);
        char quoted[128];
        snprintf(quoted, sizeof(quoted), "\"%s\"", bad[i]);
        if (!strstr(err.message, quoted) || !strstr(err.message, "--allow-cidr"))
            fail_msg("message \"%s\" does not name %s", err.message, quoted);
    }
    /* A NULL entry is refused too, not dereferenced. */
    const char *list[] = {NULL};
    guard *g = NULL;
    tc_err err;
    assert_int_equal(guard_new(0, list, 1, &g, &err), -1);
    assert_int_equal(err.code, TC_INVALID_PARAMETER);
    /* Prefix bounds. */
    static const char *const good[] = {"0.0.0.0/0", "1.2.3.4/32", "::/0", "::1/128", "fd00::/8"};
    g = make_guard(0, good, 5);
    guard_free(g);
}

static void other_families_and_no_guard(void **state) {
    (void)state;
    guard *g = make_guard(1, NULL, 0);
    struct sockaddr_un un;
    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    char why[256];
    /* Not IP: refused even with --allow-private-targets. */
    assert_int_equal(guard_allows(g, (struct sockaddr *)&un, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "not IPv4 or IPv6"));
    guard_free(g);
    struct sockaddr_storage ss;
    make_addr("8.8.8.8", &ss);
    assert_int_equal(guard_allows(NULL, (struct sockaddr *)&ss, why, sizeof(why)), 0);
    /* why may be left out. */
    g = make_guard(0, NULL, 0);
    make_addr("127.0.0.1", &ss);
    assert_int_equal(guard_allows(g, (struct sockaddr *)&ss, NULL, 0), 0);
    /* A short buffer is cut, not overrun. */
    char tiny[8];
    assert_int_equal(guard_allows(g, (struct sockaddr *)&ss, tiny, sizeof(tiny)), 0);
    assert_string_equal(tiny, "127.0.0");
    guard_free(g);
}

/* guard_opensocket called as curl would. */
static void opensocket_callback(void **state) {
    (void)state;
    guard *g = make_guard(0, NULL, 0);
    guard_check chk = {.g = g};
    struct curl_sockaddr *ca = calloc(1, sizeof(*ca) + sizeof(struct sockaddr_storage));
    assert_non_null(ca);
    ca->family = AF_INET;
    ca->socktype = SOCK_STREAM;
    ca->protocol = IPPROTO_TCP;
    ca->addrlen = sizeof(struct sockaddr_in);
    make_addr("10.0.0.1", (struct sockaddr_storage *)(void *)&ca->addr);
    assert_int_equal(guard_opensocket(&chk, CURLSOCKTYPE_IPCXN, ca), CURL_SOCKET_BAD);
    assert_non_null(strstr(chk.refused, "10.0.0.1 is a private address"));
    /* An allowed address gets a real socket, and the reason is cleared. */
    make_addr("8.8.8.8", (struct sockaddr_storage *)(void *)&ca->addr);
    curl_socket_t fd = guard_opensocket(&chk, CURLSOCKTYPE_IPCXN, ca);
    assert_true(fd != CURL_SOCKET_BAD);
    assert_string_equal(chk.refused, "");
    close(fd);
    /* Only outgoing connections. */
    assert_int_equal(guard_opensocket(&chk, CURLSOCKTYPE_ACCEPT, ca), CURL_SOCKET_BAD);
    free(ca);
    guard_free(g);
}

/* ---- a real transfer ---- */

/* A listener on 127.0.0.1:0 that answers one request with an empty 200. */
typedef struct {
    int fd;
    int port;
    int served;
    pthread_t thread;
} listener;

static void *listener_main(void *arg) {
    listener *l = arg;
    struct pollfd p = {.fd = l->fd, .events = POLLIN};
    if (poll(&p, 1, 10000) != 1)
        return NULL;
    int c = accept(l->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    char buf[4096];
    size_t have = 0;
    while (have < sizeof(buf) - 1) {
        struct pollfd pc = {.fd = c, .events = POLLIN};
        if (poll(&pc, 1, 10000) != 1)
            break;
        ssize_t n = read(c, buf + have, sizeof(buf) - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n")) {
            static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            if (write(c, resp, sizeof(resp) - 1) == (ssize_t)(sizeof(resp) - 1))
                l->served = 1;
            break;
        }
    }
    close(c);
    return NULL;
}

static void listener_start(listener *l) {
    memset(l, 0, sizeof(*l));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    l->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l->fd >= 0);
    assert_int_equal(bind(l->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l->fd, 4), 0);
    assert_int_equal(getsockname(l->fd, (struct sockaddr *)&a, &len), 0);
    l->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&l->thread, NULL, listener_main, l), 0);
}

static void listener_stop(listener *l) {
    pthread_join(l->thread, NULL);
    close(l->fd);
}

/* One GET through the guard; returns curl's result and the HTTP status. */
static CURLcode fetch(guard *g, const char *url, struct curl_slist *resolve, guard_check *chk,
                      long *status) {
    CURL *h = curl_easy_init();
    assert_non_null(h);
    memset(chk, 0, sizeof(*chk));
    chk->g = g;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* no proxy from the environment */
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, guard_opensocket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, chk);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (resolve)
        curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
    CURLcode rc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    return rc;
}

static void curl_transfer_refused_then_allowed(void **state) {
    (void)state;
    listener l;
    listener_start(&l);
    char url[128];
    long status;
    guard_check chk;

    /* Default guard: refused before any connection, with the reason. */
    guard *g = make_guard(0, NULL, 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", l.port);
    assert_int_equal(fetch(g, url, NULL, &chk, &status), CURLE_COULDNT_CONNECT);
    assert_int_equal(status, 0);
    assert_non_null(strstr(chk.refused, "127.0.0.1 is a loopback address (127.0.0.0/8); start "
                                        "tocsin with --allow-private-targets or --allow-cidr"));
    /* IPv6 loopback and the name localhost: refused the same way. */
    snprintf(url, sizeof(url), "http://[::1]:%d/", l.port);
    assert_int_equal(fetch(g, url, NULL, &chk, &status), CURLE_COULDNT_CONNECT);
    assert_non_null(strstr(chk.refused, "::1 is a loopback address"));
    snprintf(url, sizeof(url), "http://localhost:%d/", l.port);
    assert_int_equal(fetch(g, url, NULL, &chk, &status), CURLE_COULDNT_CONNECT);
    assert_non_null(strstr(chk.refused, "loopback"));
    /* A public-looking name that resolves to loopback (DNS rebinding): the
     * check is on the resolved address. */
    char entry[96];
    snprintf(entry, sizeof(entry), "hooks.example.com:%d:127.0.0.1", l.port);
    struct curl_slist *resolve = curl_slist_append(NULL, entry);
    snprintf(url, sizeof(url), "http://hooks.example.com:%d/", l.port);
    assert_int_equal(fetch(g, url, resolve, &chk, &status), CURLE_COULDNT_CONNECT);
    assert_non_null(strstr(chk.refused, "127.0.0.1 is a loopback address"));
    guard_free(g);
    assert_int_equal(l.served, 0);

    /* --allow-cidr 127.0.0.0/8: through to the listener, via the name. */
    const char *allow[] = {"127.0.0.0/8"};
    g = make_guard(0, allow, 1);
    assert_int_equal(fetch(g, url, resolve, &chk, &status), CURLE_OK);
    assert_int_equal(status, 200);
    assert_string_equal(chk.refused, "");
    guard_free(g);
    curl_slist_free_all(resolve);
    listener_stop(&l);
    assert_int_equal(l.served, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_ranges),
        cmocka_unit_test(ipv6_ranges),
        cmocka_unit_test(ipv4_inside_ipv6),
        cmocka_unit_test(allow_private_opens_everything),
        cmocka_unit_test(allow_cidr_opens_its_range),
        cmocka_unit_test(bad_cidrs_are_named),
        cmocka_unit_test(other_families_and_no_guard),
        cmocka_unit_test(opensocket_callback),
        cmocka_unit_test(curl_transfer_refused_then_allowed),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
