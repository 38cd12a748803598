/* incident_actions.h: the hand-made changes of an incident, as building
 * blocks of writer commands.
 *
 * Each incident_act_* function runs inside a writer command on an incident
 * already loaded with incident_load: it checks that the change is allowed
 * from the incident's current state (reference/event-api.md, "Incident
 * progress"), applies it to the incident's fields, and ends with
 * incident_commit, which emits the domain event (with the full incident)
 * and its timeline entry (its `detail` shaped as the spec's FeedDetail*
 * schema for the type), then saves the row. A refused change returns -1
 * with InvalidParameter saying why, before touching anything; since the
 * writer runs every command in a SAVEPOINT, a batch command that stops at
 * its first refusal keeps nothing.
 *
 * Responders and acknowledgement. `responders` holds one Responder per
 * person ({person_id, person_name, email, assigned_at, acknowledged_at}).
 * A person's acknowledged_at counts only while the incident is Processing:
 * unack clears the caller's mark and goes back to Triggered when no mark
 * remains; every way back to Triggered (wake, reopen, and an ack after an
 * automatic wake) starts from no marks, so the invariant "Processing iff
 * someone has acknowledged" holds. ack_time keeps the earliest ack ever.
 *
 * The small json helpers below are pure (no store), so they are unit-tested
 * on their own (tests/unit/test_incident_actions.c). */
#ifndef TOCSIN_INCIDENT_ACTIONS_H
#define TOCSIN_INCIDENT_ACTIONS_H

#include <jansson.h>
#include <stdint.h>

#include "core/events.h"
#include "core/incident.h"
#include "core/writer.h"

/* Snooze length bounds, minutes (24 h at most). */
#define INCIDENT_SNOOZE_MIN 1
#define INCIDENT_SNOOZE_MAX 1440

/* --- pure helpers on a parsed responders list (a JSON array of Responder) ---
 * The list is the incident's `responders` column parsed (util/doc.h); the
 * caller dumps it back compact once changed. Anything but an array finds
 * nothing, counts 0 and takes no responder (-1). */

/* The Responder object of person_id, or NULL (borrowed). */
json_t *incident_responder_get(json_t *responders, int64_t person_id);
/* Adds person as a responder assigned at `assigned_at` unless already one.
 * Returns 1 when added, 0 when already there, -1 on allocation failure. */
int incident_responder_add(json_t *responders, const tc_person *person, int64_t assigned_at);
/* Number of responders whose acknowledged_at is set. */
int incident_ack_count(json_t *responders);
/* Sets every responder's acknowledged_at back to 0; -1 when out of memory
 * (some marks may then be left: the list must not be saved). */
int incident_acks_clear(json_t *responders);
/* 1 when progress is Closed. */
int incident_is_closed(const tc_incident *inc);

/* --- lookups used by the commands -------------------------------------------- */

/* An enabled person by id; `field` names the request field in the error
 * ("<field> X does not exist"). c may be a reader or the writer's. */
int incident_person_find(store_conn *c, int64_t person_id, const char *field, tc_person *out,
                         tc_err *err);

/* --- transitions (inside a writer command) -------------------------------- */

int incident_act_ack(writer_txn *txn, tc_incident *inc, const tc_person *who, tc_err *err);
int incident_act_unack(writer_txn *txn, tc_incident *inc, const tc_person *who, tc_err *err);
int incident_act_snooze(writer_txn *txn, tc_incident *inc, const tc_person *who, int64_t minutes,
                        tc_err *err);
int incident_act_wake(writer_txn *txn, tc_incident *inc, const tc_person *who, tc_err *err);
/* root_cause / resolution may be NULL (unchanged). */
int incident_act_resolve(writer_txn *txn, tc_incident *inc, const tc_person *who,
                         const char *root_cause, const char *resolution, tc_err *err);
/* reason is required by tocsin (the schema marks it optional). */
int incident_act_reopen(writer_txn *txn, tc_incident *inc, const tc_person *who, const char *reason,
                        tc_err *err);

/* The escalation rule and layer behind an assignment (core/escalation.c). */
typedef struct {
    const char *rule_id;
    const char *rule_name;
    int64_t layer_idx;
} incident_assign_rule;

/* Assignment: persons (already checked to exist) join the responders (those
 * already there stay); assigned_to becomes the AssignedTo object {id, type,
 * escalate_rule_id, escalate_rule_name, layer_idx, assigned_at, person_ids}
 * that IncidentInfo and the webhook bodies show; rule NULL for a direct
 * assignment, whose AssignedTo then has no escalate_rule_* nor layer_idx.
 * i_assign, its detail AssignedTo + `to`. */
int incident_act_assign(writer_txn *txn, tc_incident *inc, const tc_person *who,
                        const tc_person *persons, size_t n, const char *type,
                        const incident_assign_rule *rule, tc_err *err);
/* Adds responders not already there; i_a_rspd, or nothing when none is new. */
int incident_act_add_responders(writer_txn *txn, tc_incident *inc, const tc_person *who,
                                const tc_person *persons, size_t n, tc_err *err);
int incident_act_comment(writer_txn *txn, tc_incident *inc, const tc_person *who,
                         const char *comment, int mute_reply, tc_err *err);

/* The editable fields of /incident/reset, each with its own event. */
typedef enum {
    INCIDENT_FIELD_TITLE,
    INCIDENT_FIELD_DESCRIPTION,
    INCIDENT_FIELD_IMPACT,
    INCIDENT_FIELD_ROOT_CAUSE,
    INCIDENT_FIELD_RESOLUTION,
    INCIDENT_FIELD_SEVERITY,
} incident_field;

/* Sets one field (title, description and severity are then pinned so that
 * alerts merging later do not change them). i_r_title ... i_r_severity. */
int incident_act_reset(writer_txn *txn, tc_incident *inc, const tc_person *who,
                       incident_field field, const char *value, tc_err *err);
/* Sets (value non-NULL, stolen) or removes (NULL) fields[name]. i_r_field. */
int incident_act_set_field(writer_txn *txn, tc_incident *inc, const tc_person *who,
                           const char *name, json_t *value, tc_err *err);

/* Soft delete: deleted_at set, out of grouping; no domain event (the
 * contract has no type for it). incident_load refuses it afterwards. */
int incident_act_remove(writer_txn *txn, tc_incident *inc, tc_err *err);

/* Merge: every alert of each source moves into the target
 * (engine_alert_move), the sources are closed by `who` (i_rslv) or removed,
 * their responders join the target, and the target is refreshed and gets
 * i_merge. title may be NULL; owner_id 0 = unchanged. */
typedef struct {
    const char *title;
    const char *comment;
    int64_t owner_id;
    int remove_sources;
} incident_merge_opts;

int incident_act_merge(writer_txn *txn, tc_incident *target, tc_incident *sources, size_t n,
                       const tc_person *who, const incident_merge_opts *opts, tc_err *err);

/* Custom actions (/incident/custom-action/do): the integration must be an
 * enabled custom_action bound to the incident's channel. Fills the fields
 * the sending needs. The delivery issue extends this with the send. */
typedef struct {
    int64_t integration_id;
    char name[256];
    json_t *config; /* owned: the integration's config object */
} incident_custom_action;

void incident_custom_action_clear(incident_custom_action *ca);
int incident_custom_action_find(store_conn *c, const tc_incident *inc, int64_t integration_id,
                                incident_custom_action *out, tc_err *err);

#endif
