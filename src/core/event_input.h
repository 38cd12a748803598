/* event_input.h: the rules every incoming alert event obeys, whatever its
 * wire shape (standard JSON or an Alertmanager alert), as pure functions.
 *
 * The limits of reference/event-api.md live here once, so the standard push
 * (api/events.c) and the Alertmanager mapping (core/prometheus.c) cannot
 * drift apart. Also here: the alert_key derived for an event that has none,
 * and the content hash that recognizes an event identical to the previous
 * one of its alert (alerts.event_hash). */
#ifndef TOCSIN_EVENT_INPUT_H
#define TOCSIN_EVENT_INPUT_H

#include <jansson.h>
#include <stddef.h>

#define EVENT_TITLE_RULE_MAX 512   /* characters; longer is cut */
#define EVENT_ALERT_KEY_MAX 255    /* characters; longer is refused */
#define EVENT_DESCRIPTION_MAX 2048 /* characters; longer is cut */
#define EVENT_LABELS_MAX 50        /* labels; more is refused */
#define EVENT_LABEL_KEY_MAX 128    /* characters; longer is refused */
#define EVENT_LABEL_VALUE_MAX 2048 /* characters; longer is cut */
#define EVENT_IMAGE_ALT_MAX 128    /* characters; longer is cut */
#define EVENT_IMAGE_SRC_MAX 256    /* characters; a longer src drops the image */
#define EVENT_IMAGE_HREF_MAX 256   /* characters; longer is cut */
#define EVENT_HASH_LEN 64          /* hex characters of a derived key or hash */

#include "util/err.h"
#include "util/utf8.h"

/* Characters (UTF-8 code points) in s, and the byte length of its first
 * max_chars characters. */

/* Checks a labels value (a JSON object of strings) under the limits and
 * returns in *out a new object with values cut to EVENT_LABEL_VALUE_MAX.
 * `field` names it in messages ("labels", "alerts[2].labels"). value NULL or
 * JSON null gives *out = NULL and 0. InvalidParameter otherwise. */
int event_labels_normalize(json_t *value, const char *field, json_t **out, tc_err *err);

/* Checks an images value (a list of {alt, src, href}) and returns a new
 * normalized list: alt and href cut, an image whose src is too long
 * dropped, unknown keys dropped; every image is kept, several with the same
 * alt too. src is required in each image. */
int event_images_normalize(json_t *value, const char *field, json_t **out, tc_err *err);

/* The key of an event sent without one: SHA-256 hex of the title_rule and
 * the labels in key order, so the same rule and labels always give the same
 * key (and repeats dedupe), whatever order the labels came in. labels may be
 * NULL. out holds EVENT_HASH_LEN + 1 bytes. -1 only when out of memory. */
int event_key_derive(const char *title_rule, json_t *labels, char *out);

/* SHA-256 hex of everything an event says (status, title_rule, description,
 * labels, images; absent and empty are told apart). Two events with the same
 * hash are identical. Returns -1 only when out of memory. */
int event_content_hash(const char *status, const char *title_rule, const char *description,
                       json_t *labels, json_t *images, char *out);

#endif
