/* clock.h: wall-clock time in the units the contracts use.
 * Webhook event_time and feed created_at are milliseconds; object times
 * (start_time, created_at...) are Unix seconds. Keeping both helpers here
 * makes the unit visible at every call site. */
#ifndef TOCSIN_CLOCK_H
#define TOCSIN_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);
int64_t clock_now_s(void);
/* Monotonic milliseconds, for timeouts and durations only. */
int64_t clock_mono_ms(void);

#endif
