/* history.c: see history.h. */
#include "delivery/history.h"

#include "store/deliveries.h"
#include "store/history.h"

int history_insert(writer_txn *txn, const history_subject *s, const char *endpoint,
                   const push_attempt *a, tc_err *err) {
    store_history_new h = {
        .integration_id = s->integration_id,
        .event_id = s->event_id,
        .webhook_type = s->webhook_type,
        .event_type = s->event_type,
        .channel_id = s->channel_id,
        .ref_id = s->ref_id,
        .endpoint = endpoint,
        .attempt = s->attempt,
        .duration_ms = a->duration_ms,
        .status = a->outcome == OUTCOME_DELIVERED ? "success" : "failed",
        .status_code = a->status,
        .error_message = a->error,
        .request_headers = a->headers_text ? a->headers_text : "",
        /* '' stands for the event's own body (store/history.c reads it from
         * there): a push's body is most of an attempt's bytes, and without a
         * template every attempt of an event sends the same one. */
        .request_body = a->body && !a->body_is_event ? a->body : "",
        .response_headers = a->resp_headers ? a->resp_headers : "",
        .response_body = a->resp_body ? a->resp_body : "",
        .event_time = s->event_time_ms,
        .created_at = txn->now_ms,
        .delivery_id = s->delivery_id,
        .sequence = s->sequence,
    };
    return store_history_insert(txn->conn, &h, err);
}

int history_prune(writer_txn *txn, int limit, tc_err *err) {
    int64_t before = txn->now_ms - HISTORY_KEEP_MS;
    if (store_history_prune(txn->conn, before, limit, err) != 0)
        return -1;
    return store_deliveries_prune(txn->conn, before, limit, err);
}
