/* routes: the whole route table in one place. */
#include "routes/api.h"

const struct route api_routes[] = {
    {"GET", "/health", api_health, "health"},
    {"GET", "/health/cache", api_health_cache, "health_cache"},
    {"GET", "/health/db", api_health_db, "health_db"},
    {"GET", "/metrics", api_metrics, "metrics"},
};

const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);
