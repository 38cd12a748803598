/* routes.c: the list of route tables. A new API family adds its table here. */
#include "http/routes.h"

#include <string.h>

static const api_route *const tables[] = {
    api_event_routes,
    api_incident_routes,
    api_alert_routes,
    api_channel_routes,
    api_channel_rule_routes,
    api_escalate_rule_routes,
    api_member_routes,
    api_integration_routes,
    api_history_routes,
    api_delivery_routes,
    api_replay_routes,
    api_integration_health_routes,
    api_change_routes, /* change events: /change/list, /incident/change/list */
    NULL,
};

const api_route *const *routes_tables(void) {
    return tables;
}

const api_route *routes_find(const char *path) {
    for (int t = 0; tables[t]; t++) {
        for (const api_route *r = tables[t]; r->path; r++) {
            if (strcmp(r->path, path) == 0)
                return r;
        }
    }
    return NULL;
}

api_start routes_find_start(const char *path) {
    for (const api_async_route *r = api_event_async_routes; r->path; r++) {
        if (strcmp(r->path, path) == 0)
            return r->start;
    }
    return NULL;
}
