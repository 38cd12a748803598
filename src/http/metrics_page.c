/* metrics_page.c: see metrics_page.h.
 *
 * Two queries per scrape. The integrations table is small. The pending
 * deliveries are counted from the partial index of 005_metrics.sql, which
 * covers the query and holds pending rows only: a scrape costs in
 * proportion to the backlog (about 0.3 s per million pending), never to
 * the history of deliveries, and touches no table row. */
#include "http/metrics_page.h"

#include <stdlib.h>
#include <string.h>

#include "core/cluster.h"
#include "store/cluster.h"
#include "store/deliveries.h"
#include "store/integrations.h"
#include "util/clock.h"

typedef struct {
    metrics_integration *items;
    size_t n, cap;
} integ_list;

static void integ_list_clear(integ_list *l) {
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->items[i].name);
        free((char *)l->items[i].type);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static int is_webhook(const char *type) {
    return strcmp(type, "webhook_incident") == 0 || strcmp(type, "webhook_alert") == 0;
}

static int integ_list_add(void *arg, const store_integration_brief *row, tc_err *err) {
    integ_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        metrics_integration *grown = realloc(l->items, cap * sizeof(*grown));
        if (!grown)
            return tc_err_oom(err, "the metrics page");
        l->items = grown;
        l->cap = cap;
    }
    metrics_integration *in = &l->items[l->n];
    memset(in, 0, sizeof(*in));
    in->integration_id = row->integration_id;
    in->type = strdup(row->type);
    in->name = strdup(row->name);
    l->n++; /* counted now, so that clear frees whatever was copied */
    if (!in->type || !in->name)
        return tc_err_oom(err, "the metrics page");
    in->enabled = strcmp(row->status, "enabled") == 0;
    in->pushes = is_webhook(in->type);
    return 0;
}

static metrics_integration *integ_list_find(integ_list *l, int64_t id) {
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->items[mid].integration_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && l->items[lo].integration_id == id ? &l->items[lo] : NULL;
}

/* In id order, as integ_list_find expects. */
static int read_integrations(store_conn *c, integ_list *l, tc_err *err) {
    return store_integrations_each_live(c, integ_list_add, l, err);
}

typedef struct {
    integ_list *l;
    metrics_store_state *st;
    int64_t oldest;
} pending_sum;

static int add_pending(void *arg, const store_pending_count *r, tc_err *err) {
    (void)err;
    pending_sum *sum = arg;
    metrics_integration *in = integ_list_find(sum->l, r->integration_id);
    if (in) {
        in->pending = r->pending;
        in->retries_pending = r->retries_pending;
    }
    sum->st->outbox_pending += r->pending;
    if (sum->oldest == 0 || r->oldest_created_at < sum->oldest)
        sum->oldest = r->oldest_created_at;
    return 0;
}

/* Pending deliveries per integration, the total and the oldest's age.
 * Rows of a deleted integration count in the total only (the dispatcher
 * ends them as failed). */
static int read_pending(store_conn *c, integ_list *l, metrics_store_state *st, tc_err *err) {
    pending_sum sum = {l, st, 0};
    if (store_deliveries_pending_counts(c, add_pending, &sum, err) != 0)
        return -1;
    int64_t oldest = sum.oldest;
    if (oldest) {
        int64_t age_ms = clock_now_ms() - oldest;
        st->outbox_oldest_age_s = age_ms > 0 ? (double)age_ms / 1000.0 : 0;
    }
    return 0;
}

/* ---- the node and, with several, the cluster's leases ---------------------- */

static int lease_sample(void *arg, const char *node_id, int64_t n) {
    metrics_label label = {"node_id", node_id};
    metrics_text_sample(arg, "tocsin_cluster_leases", &label, 1, (double)n);
    return 0;
}

/* tocsin_node_info names the node that answered (every series of the page
 * is this node's); with several nodes, the leases each live node holds,
 * as the database has them. Rendered into cluster_text before the registry
 * is copied, like the store's gauges. */
static int render_node(tc_app *app, store_conn *c, metrics_text *t, tc_err *err) {
    cluster *cl = app->cluster;
    int shared = cl && cluster_is_shared(cl);
    metrics_label info[2] = {{"node_id", cl ? cluster_node_id(cl) : ""},
                             {"engine", shared ? "postgres" : "sqlite"}};
    metrics_text_family(t, "tocsin_node_info", "gauge",
                        "This node: its id and its store's engine.");
    metrics_text_sample(t, "tocsin_node_info", info, 2, 1);
    if (!shared)
        return 0;
    metrics_text_family(t, "tocsin_cluster_buckets_held", "gauge",
                        "Lane buckets this node serves now (of 64).");
    metrics_text_sample(t, "tocsin_cluster_buckets_held", info, 1, cluster_buckets_held_count(cl));
    metrics_text_family(t, "tocsin_cluster_leases", "gauge",
                        "Leases (lane buckets and the timers) each node holds, by the database.");
    return store_cluster_lease_counts(c, lease_sample, t, err);
}

/* The writer's batches and the commands they held since start: their ratio
 * is the group commit's batch size, which bounds what a commit's fixed cost
 * weighs per event (docs/ARCHITECTURE.md, "The hot path"). */
static void render_writer(tc_app *app, metrics_text *t) {
    int64_t batches = 0, commands = 0;
    if (app->w)
        writer_stats(app->w, &batches, &commands);
    metrics_text_family(t, "tocsin_writer_batches_total", "counter",
                        "Transactions the writer committed (one per batch of commands).");
    metrics_text_sample(t, "tocsin_writer_batches_total", NULL, 0, (double)batches);
    metrics_text_family(t, "tocsin_writer_commands_total", "counter",
                        "Commands (an ingest request, an Open API change, a batch of "
                        "delivery outcomes, a timer run) in those transactions.");
    metrics_text_sample(t, "tocsin_writer_commands_total", NULL, 0, (double)commands);
}

int metrics_page_render(tc_app *app, metrics_text *out, tc_err *err) {
    integ_list l = {0};
    metrics_store_state st = {0};
    metrics_text node;
    metrics_text_init(&node);
    int rc = -1;
    store_conn *c = store_reader_acquire(app->st);
    render_writer(app, &node);
    int read = read_integrations(c, &l, err) == 0 && read_pending(c, &l, &st, err) == 0 &&
               render_node(app, c, &node, err) == 0;
    store_reader_release(app->st, c);
    if (!read)
        goto out;
    st.integrations = l.items;
    st.nintegrations = l.n;
    if (metrics_render(app->m, &st, out) != 0) {
        tc_err_set(err, TC_INTERNAL, app->m ? "out of memory" : "metrics are not kept");
        goto out;
    }
    metrics_text_append(out, &node);
    if (out->oom || node.oom) {
        tc_err_set(err, TC_INTERNAL, "out of memory");
        goto out;
    }
    rc = 0;
out:
    metrics_text_clear(&node);
    integ_list_clear(&l);
    return rc;
}
