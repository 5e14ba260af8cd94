/* unit: registration functions of the unit suites (pure code, no servers). */
#ifndef STOCK_TESTS_UNIT_H
#define STOCK_TESTS_UNIT_H

int test_buf_register(void);
int test_arena_register(void);
int test_config_register(void);
int test_http_register(void);
int test_router_register(void);
int test_jsonx_register(void);
int test_dec_register(void);
int test_date_register(void);
int test_cache_key_register(void);
int test_listen_register(void);
int test_redis_register(void);
int test_routes_register(void);
int test_api_in_register(void);
int test_l1_register(void);
int test_tenant_register(void);

#endif
