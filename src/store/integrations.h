/* store/integrations.h: the integrations table and the subscriptions of
 * the pushing kinds, as the integration calls (core/integration.c,
 * api/integrations.c), the channel calls, delivery and the metrics page
 * see them. What the writer's cache reads of them is in store/config.c.
 * Every other statement about integrations and subscriptions lives in
 * store/integrations.c. */
#ifndef TOCSIN_STORE_INTEGRATIONS_H
#define TOCSIN_STORE_INTEGRATIONS_H

#include <stdint.h>

#include "store/store.h"

/* Alert sources (alert_standard, alert_prometheus) that are not deleted
 * and send into the channel. */
int store_integrations_count_sources(store_conn *c, int64_t channel_id, int64_t *n, tc_err *err);

#endif
