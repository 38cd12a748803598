/* bench/signing.c: microseconds per Standard Webhooks signature of a push
 * body, keyed once (signature_signer, as the dispatcher signs) and keyed per
 * call (signature_sign). Built and run by bench/signing.sh. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery/signature.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    size_t len = argc > 2 ? (size_t)atoi(argv[2]) : 1500;
    char secret[SIGNATURE_SECRET_MAX], sig[SIGNATURE_ONE_MAX];
    char *body = malloc(len + 1);
    signature_signer *s = NULL;
    tc_err err;
    if (n < 1 || !body || signature_secret_new(secret, &err) != 0 ||
        signature_signer_new(secret, &s, &err) != 0) {
        fprintf(stderr, "signing: cannot set up\n");
        return 1;
    }
    memset(body, 'a', len);
    body[len] = '\0';
    const char *id = "6757a5c5e2f14b0012345678";
    for (int round = 0; round < 3; round++) {
        double t0 = now_s();
        for (int i = 0; i < n; i++)
            signature_sign(secret, id, 1733300000, body, len, sig, &err);
        double t1 = now_s();
        for (int i = 0; i < n; i++)
            signature_signer_sign(s, id, 1733300000, body, len, sig, &err);
        double t2 = now_s();
        printf("round %d, %zu-byte body: keyed per call %.2f us, keyed once %.2f us\n", round + 1,
               len, (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6);
    }
    signature_signer_free(s);
    free(body);
    return 0;
}
