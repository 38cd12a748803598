/* api.c: what every handler shares (see api.h). */
#include "api/api.h"

int api_answer(json_t *answer, const char *what, json_t **data, tc_err *err) {
    if (!answer)
        return tc_err_oom(err, what);
    *data = answer;
    return 0;
}

int api_run_empty(api_ctx *ctx, writer_fn fn, void *arg, json_t **data, tc_err *err) {
    json_t *answer = json_object();
    if (!answer)
        return tc_err_oom(err, "an answer");
    if (writer_run(ctx->app->w, fn, arg, err) != 0) {
        json_decref(answer);
        return -1;
    }
    *data = answer;
    return 0;
}
