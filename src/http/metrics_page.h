/* metrics_page.h: the body of GET /metrics (Prometheus text format).
 *
 * The store's gauges (outbox depth and lag, per-integration pending and
 * retrying deliveries, enabled/disabled) are read with SQL on a reader
 * connection first; only then is the registry (util/metrics.h) copied and
 * rendered, so no lock of the registry is held while SQL runs. */
#ifndef TOCSIN_HTTP_METRICS_PAGE_H
#define TOCSIN_HTTP_METRICS_PAGE_H

#include "core/app.h"
#include "util/err.h"
#include "util/metrics.h"

/* Renders the page into out (initialised by the caller). */
int metrics_page_render(tc_app *app, metrics_text *out, tc_err *err);

#endif
