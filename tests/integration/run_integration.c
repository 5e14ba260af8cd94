/* run_integration: every integration suite against the real PostgreSQL and Redis of the run. */
#include <CUnit/Basic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cunit_result.h"
#include "itest.h"

int main(int argc, char **argv)
{
    int rc;

    /* Tests break Redis under open connections: a write to a closed socket is an error. */
    signal(SIGPIPE, SIG_IGN);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    if (test_db_register() || test_cache_register() || test_catalog_register() ||
        test_auth_register() || test_sales_register() || test_dispatch_register() ||
        test_tenant_register()) {
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
    rc = cunit_result("integration");
    CU_cleanup_registry();
    return rc;
}
