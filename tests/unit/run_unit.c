/* run_unit: every unit suite. Exit status and the RESULT line: tests/lib/cunit_result.h. */
#include <CUnit/Basic.h>
#include <stdio.h>

#include "../lib/cunit_result.h"
#include "unit.h"

int main(void)
{
    int rc;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    if (test_buf_register() || test_arena_register() || test_config_register() ||
        test_http_register() || test_router_register() || test_jsonx_register() ||
        test_dec_register() || test_date_register() || test_cache_key_register() ||
        test_listen_register() || test_redis_register() || test_routes_register() ||
        test_api_in_register() || test_l1_register() || test_tenant_register()) {
        fprintf(stderr, "cannot register suites: %s\n", CU_get_error_msg());
        return 2;
    }
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    rc = cunit_result("unit");
    CU_cleanup_registry();
    return rc;
}
