/* routes.h: finding the API route for a path, across every family's table. */
#ifndef TOCSIN_HTTP_ROUTES_H
#define TOCSIN_HTTP_ROUTES_H

#include "api/api.h"

const api_route *routes_find(const char *path);
/* The route's start, when it has one (api_async_route), else NULL. */
api_start routes_find_start(const char *path);
/* Every route table, NULL-terminated (for code that walks all routes). */
const api_route *const *routes_tables(void);

#endif
