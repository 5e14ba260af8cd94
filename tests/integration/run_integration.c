/* run_integration: every integration suite against the real PostgreSQL and Redis of the run. */
#include <CUnit/Basic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

int main(int argc, char **argv)
{
    unsigned run, failed;

    /* Tests break Redis under open connections: a write to a closed socket is an error. */
    signal(SIGPIPE, SIG_IGN);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    if (test_db_register() || test_cache_register() || test_catalog_register() ||
        test_auth_register() || test_sales_register() || test_dispatch_register()) {
        fprintf(stderr, "cannot register suites: %s\n", CU_get_error_msg());
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    /* An optional argument runs one suite (by name), for development. */
    if (argc > 1) {
        CU_pSuite s = CU_get_suite(argv[1]);

        if (!s) {
            fprintf(stderr, "no suite '%s'\n", argv[1]);
            return 2;
        }
        CU_basic_run_suite(s);
    } else {
        CU_basic_run_tests();
    }
    run = CU_get_number_of_tests_run();
    failed = CU_get_number_of_tests_failed();
    /* CU_basic_run_tests() returns success even when assertions fail: count them ourselves. */
    printf("RESULT integration passed=%u failed=%u\n", run - failed, failed);
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
