/* self_alerts.h: tocsin tells its owners when a webhook endpoint stops
 * taking pushes (issue 13). With --self-alerts-channel-id set, two
 * conditions of each webhook integration open an alert (and so an
 * incident) in that channel, through the engine's own path
 * (engine_ingest_internal), so the channel's webhooks and escalation carry
 * it like any other:
 *
 *   tocsin/integration/<id>/disabled  delivery disabled it (410 Gone, or
 *                                     24 hours of failures); recovers at
 *                                     its next successful delivery
 *   tocsin/integration/<id>/lag       its oldest pending delivery is older
 *                                     than --self-alerts-lag; recovers when
 *                                     it is younger again (or none pends)
 *
 * Severity Critical, labels integration_id, integration_name, reason.
 * Every function runs inside a writer command and returns at once when
 * self-alerts are off. A channel that is missing or disabled is logged and
 * skipped: a self-alert never fails the command it rides in. */
#ifndef TOCSIN_SELF_ALERTS_H
#define TOCSIN_SELF_ALERTS_H

#include <stdint.h>

#include "core/config.h"
#include "core/writer.h"

#define SELF_ALERTS_LAG_DEFAULT_S 300
#define SELF_ALERTS_LAG_MIN_S 10
#define SELF_ALERTS_LAG_MAX_S 86400
/* The lag is checked once per window of this length (self_alerts.c). */
#define SELF_ALERTS_CHECK_MS 2000

/* Delivery disabled the integration in this command (reason: why). */
int self_alerts_disabled(writer_txn *txn, const tc_config *cfg, int64_t integration_id,
                         const char *reason, tc_err *err);

/* An attempt of the integration was delivered: its disabled alert, if
 * open, recovers. A hash lookup when none is open. */
int self_alerts_delivered(writer_txn *txn, const tc_config *cfg, int64_t integration_id,
                          tc_err *err);

/* A person deleted the integration: whatever of its alerts is open
 * recovers (nothing will ever deliver for it again). */
int self_alerts_forget(writer_txn *txn, const tc_config *cfg, int64_t integration_id,
                       const char *name, tc_err *err);

/* The writer's timer tick: opens and recovers the lag alerts. */
int self_alerts_check_lag(writer_txn *txn, const tc_config *cfg, tc_err *err);

#endif
