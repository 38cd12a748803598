/* doc.c: see doc.h. */
#include "util/doc.h"

#include <stdio.h>
#include <string.h>

#include "util/jbuild.h"
#include "util/log.h"

int doc_parse(const char *text, const char *what, const char *id, json_t **out, tc_err *err) {
    json_error_t jerr;
    const char *t = text ? text : "";
    *out = jb_loadb(t, strlen(t), 0, &jerr, NULL);
    if (*out)
        return 0;
    char quoted[sizeof(jerr.text)];
    log_error("msg=\"stored document unreadable\" what=%s id=%s error=\"%s\"", what, id,
              log_quote(jerr.text, quoted, sizeof(quoted)));
    return tc_err_set(err, TC_INTERNAL, "the stored %s %s cannot be read", what, id);
}

int doc_parse_n(const char *text, const char *what, int64_t id, json_t **out, tc_err *err) {
    char shown[24];
    snprintf(shown, sizeof(shown), "%lld", (long long)id);
    return doc_parse(text, what, shown, out, err);
}
