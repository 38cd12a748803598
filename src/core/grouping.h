/* grouping.h: the channel's `group` rules as pure decisions.
 *
 * The config helper stores a normalized `group` object in each channel's doc
 * (schema Group of oncall-openapi.subset.json): {method n|p|i, equals
 * [[label keys]], all_equals_required, time_window (minutes), window_type
 * tumbling|sliding, storm_threshold, storm_thresholds, i_keys}. The engine
 * reads it into group_rules and asks the three questions here:
 *   - which bucket keys does a new alert's labels give (group_key)?
 *   - is an open incident still inside the grouping window
 *     (group_window_open)?
 *   - which storm thresholds has an incident's alert count reached that it
 *     has not yet warned about (group_storm_due)?
 * Keeping them free of the store makes them unit-testable without waiting
 * for minutes to pass. */
#ifndef TOCSIN_GROUPING_H
#define TOCSIN_GROUPING_H

#include <jansson.h>
#include <stdint.h>

#define GROUP_MAX_STORM 6 /* storm_threshold + at most 5 storm_thresholds */

typedef struct {
    char method;             /* 'n', 'p' or 'i' as configured ('n' when absent) */
    json_t *equals;          /* list of key lists ('i': [i_keys]); owned; NULL for 'n' */
    int all_equals_required; /* every key of a list must be present */
    int64_t window_s;        /* time_window in seconds; 0: no limit */
    int sliding;             /* window counted from the newest alert, not the start */
    int64_t storm[GROUP_MAX_STORM];
    int nstorm;
    int disable_auto_close; /* the channel's disable_auto_close */
} group_rules;

void group_rules_init(group_rules *g);
void group_rules_clear(group_rules *g);

/* Reads the rules from a channel doc, or from its `rules` column (the same
 * keys: group, disable_auto_close); may be NULL. A missing or malformed
 * group means method n; method i falls back to p on i_keys (one list), and to
 * n when it has no i_keys. -1 only when out of memory (g is then method n,
 * and must not be used). */
int group_rules_from_channel(json_t *channel_doc, group_rules *g);

/* True when the rules group at all (method p, or i with keys). */
int group_rules_pattern(const group_rules *g);

/* The bucket key of `labels` for one list of label keys: SHA-256 hex of the
 * sorted keys and their values. When all_required, a missing key means the
 * list does not apply (returns 1); otherwise a missing key compares as the
 * empty string. An empty list does not apply. 0 with out filled (65 bytes),
 * 1 when it does not apply, -1 when out of memory. */
int group_key(json_t *keys, json_t *labels, int all_required, char *out);

/* What an incident reports it was grouped on (its webhook body's and
 * IncidentInfo's dedup_key and equals_md5): for the first list of the
 * rules that applies to the incident's labels (JSON object text, those of
 * its first alert), the bucket key (SHA-256 hex, key: 65 bytes) and the
 * MD5 hex of the same keys and values (md5: 33 bytes). Both "" when the
 * rules (g may be NULL) group nothing or no list applies. -1 only when out of memory. */
int group_incident_digests(const group_rules *g, const char *labels_text, char *key, char *md5);

/* Whether an open incident that started at start_time and whose newest alert
 * joined at last_alert_time (0: none yet) still takes alerts at `now`:
 * tumbling counts the window from start_time, sliding from the newest alert. */
int group_window_open(const group_rules *g, int64_t start_time, int64_t last_alert_time,
                      int64_t now);

/* Writes to out (ascending) the thresholds in g that alert_cnt has reached
 * and that are not in storm_fired (a JSON list of integers, may be NULL).
 * Returns how many. */
int group_storm_due(const group_rules *g, int64_t alert_cnt, json_t *storm_fired, int64_t *out);

#endif
