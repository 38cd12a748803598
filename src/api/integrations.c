/* integrations.c: (being written) */
#include "api/api.h"

const api_route api_integration_routes[] = {
    {NULL, NULL, API_AUTH_NONE},
};
