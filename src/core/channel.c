/* channel.c: see channel.h. */
#include "core/channel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"
#include "store/channels.h"
#include "util/doc.h"
#include "util/jbuild.h"

static int parse_doc(void *arg, const store_channel_doc *ch, tc_err *err) {
    return doc_parse_n(ch->doc, "channel", ch->channel_id, arg, err);
}

int channel_load(store_conn *c, int64_t channel_id, json_t **doc, tc_err *err) {
    *doc = NULL;
    int found = store_channels_doc(c, channel_id, parse_doc, doc, err);
    if (found == 0)
        tc_err_set(err, TC_INVALID_PARAMETER, "channel_id %lld does not exist",
                   (long long)channel_id);
    return found == 1 ? 0 : -1;
}

int channel_load_live(store_conn *c, int64_t channel_id, const char *action, json_t **doc,
                      tc_err *err) {
    if (channel_load(c, channel_id, doc, err) != 0)
        return -1;
    const char *status = json_string_value(json_object_get(*doc, "status"));
    if (status && strcmp(status, "deleted") == 0) {
        json_decref(*doc);
        *doc = NULL;
        return tc_err_set(err, TC_INVALID_PARAMETER, "channel_id %lld is deleted and %s",
                          (long long)channel_id, action);
    }
    return 0;
}

int channel_name_free(store_conn *c, const char *name, int64_t except_id, tc_err *err) {
    int64_t other = 0;
    int taken = store_channels_name_owner(c, name, except_id, &other, err);
    if (taken < 0)
        return -1;
    if (taken)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "channel_name '%s' is already used by channel %lld", name,
                          (long long)other);
    return 0;
}

static int64_t get_int(json_t *doc, const char *key) {
    return json_integer_value(json_object_get(doc, key));
}

static const char *get_str(json_t *doc, const char *key) {
    const char *s = json_string_value(json_object_get(doc, key));
    return s ? s : "";
}

/* A new row: the store picks the id, which then goes into the document. */
static int channel_insert(writer_txn *txn, json_t *doc, tc_err *err) {
    int64_t now = txn->now_ms / 1000;
    int failed = 0;
    jb_set(doc, "created_at", json_integer(now), &failed);
    jb_set(doc, "updated_at", json_integer(now), &failed);
    if (failed)
        return tc_err_oom(err, "a new channel");
    int64_t id = 0;
    if (store_channels_insert(txn->conn, get_str(doc, "channel_name"), get_str(doc, "status"), now,
                              &id, err) != 0)
        return -1;
    if (json_object_set_new(doc, "channel_id", json_integer(id)) != 0)
        return tc_err_oom(err, "a new channel");
    return 0;
}

int channel_save(writer_txn *txn, json_t *doc, tc_err *err) {
    /* The writer's cache reads sources, channels and subscriptions again
     * when next needed (core/state.h). */
    if (txn->state)
        state_config_changed(txn->state);
    store_batch_note(txn->conn, 'c', "");
    if (get_int(doc, "channel_id") == 0 && channel_insert(txn, doc, err) != 0)
        return -1;
    char *text = NULL, *rules = NULL;
    json_t *rules_doc = NULL;
    int rc = -1;
    if (json_object_set_new(doc, "updated_at", json_integer(txn->now_ms / 1000)) != 0 ||
        !(text = jb_dumps(doc, JSON_COMPACT)) ||
        !(rules_doc =
              json_pack("{s:O?, s:b}", "group", json_object_get(doc, "group"), "disable_auto_close",
                        json_is_true(json_object_get(doc, "disable_auto_close")))) ||
        !(rules = jb_dumps(rules_doc, JSON_COMPACT))) {
        tc_err_oom(err, "encoding a channel");
        goto out;
    }
    store_channel_write w = {.channel_id = get_int(doc, "channel_id"),
                             .name = get_str(doc, "channel_name"),
                             .status = get_str(doc, "status"),
                             .created_at = get_int(doc, "created_at"),
                             .updated_at = get_int(doc, "updated_at"),
                             .deleted_at = get_int(doc, "deleted_at"),
                             .doc = text,
                             .rules = rules};
    rc = store_channels_update(txn->conn, &w, err);
out:
    json_decref(rules_doc);
    free(text);
    free(rules);
    return rc;
}
