/* sign_tool.c: tocsin's Standard Webhooks signing from the command line, for
 * tests/e2e/test_signature_interop.py, which checks what it prints against
 * the npm package `standardwebhooks`.
 *
 *   tocsin_sign new                      prints a new "whsec_" secret
 *   tocsin_sign sign SECRET ID TIMESTAMP prints "v1,<base64>" for the body
 *                                        read from standard input
 * Exit 0 on success, 1 with a message on standard error otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/signature.h"

/* Standard input, whole, as bytes (a body may hold any byte). */
static char *read_stdin(size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                return NULL;
            }
            buf = p;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    tc_err err;
    if (argc == 2 && strcmp(argv[1], "new") == 0) {
        char secret[SIGNATURE_SECRET_MAX];
        if (signature_secret_new(secret, &err) < 0) {
            fprintf(stderr, "tocsin_sign: %s\n", err.message);
            return 1;
        }
        printf("%s\n", secret);
        return 0;
    }
    if (argc != 5 || strcmp(argv[1], "sign") != 0) {
        fprintf(stderr, "usage: tocsin_sign new | tocsin_sign sign SECRET ID TIMESTAMP < body\n");
        return 1;
    }
    char *end = NULL;
    long long ts = strtoll(argv[4], &end, 10);
    if (!*argv[4] || *end) {
        fprintf(stderr, "tocsin_sign: TIMESTAMP must be an integer\n");
        return 1;
    }
    size_t len = 0;
    char *body = read_stdin(&len);
    char sig[SIGNATURE_ONE_MAX];
    int rc = 1;
    if (!body)
        fprintf(stderr, "tocsin_sign: cannot read the body\n");
    else if (signature_sign(argv[2], argv[3], (int64_t)ts, body, len, sig, &err) < 0)
        fprintf(stderr, "tocsin_sign: %s\n", err.message);
    else {
        printf("%s\n", sig);
        rc = 0;
    }
    free(body);
    return rc;
}
