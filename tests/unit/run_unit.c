/* run_unit: every unit suite. Exit status and the RESULT line come from the failure counts. */
#include <CUnit/Basic.h>
#include <stdio.h>

#include "unit.h"

int main(void)
{
    unsigned run, failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    if (test_buf_register() || test_arena_register() || test_config_register() ||
        test_http_register() || test_router_register() || test_jsonx_register() ||
        test_dec_register() || test_date_register() || test_cache_key_register() ||
        test_listen_register() || test_redis_register() || test_routes_register()) {
        fprintf(stderr, "cannot register suites: %s\n", CU_get_error_msg());
        return 2;
    }
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    run = CU_get_number_of_tests_run();
    /* CU_basic_run_tests() returns success even when assertions fail: count them ourselves. */
    failed = CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
    printf("RESULT unit passed=%u failed=%u\n", run >= failed ? run - failed : 0, failed);
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
