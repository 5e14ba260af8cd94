/*
 * cunit_result: the verdict of a CUnit run (tests/unit/run_unit.c, tests/integration/
 * run_integration.c), as tests/run_all.sh reads it.
 *
 * CUnit's own run functions return success even when assertions fail, and a suite whose setup
 * (or teardown) fails has its tests skipped, not failed. Here both count: a failed test is one
 * failure, a failed suite setup or teardown is one more, and each is printed as "not ok".
 */
#ifndef STOCK_TESTS_CUNIT_RESULT_H
#define STOCK_TESTS_CUNIT_RESULT_H

#include <CUnit/CUnit.h>
#include <stdio.h>

/*
 * Prints "not ok - suite 'S': setup failed" (or teardown) for each such suite, then
 * "RESULT <name> passed=N failed=M" over the last run, and returns the exit status of the run:
 * 0 when nothing failed, 1 otherwise. Call before CU_cleanup_registry().
 */
static inline int cunit_result(const char *name)
{
    CU_pFailureRecord f;
    unsigned run = CU_get_number_of_tests_run();
    unsigned tests_failed = CU_get_number_of_tests_failed();
    unsigned suites_failed = 0;

    for (f = CU_get_failure_list(); f; f = f->pNext) {
        if (f->type != CUF_SuiteInitFailed && f->type != CUF_SuiteCleanupFailed)
            continue;
        suites_failed++;
        printf("not ok - suite '%s': %s failed\n", f->pSuite ? f->pSuite->pName : "?",
               f->type == CUF_SuiteInitFailed ? "setup (its tests did not run)" : "teardown");
    }
    printf("RESULT %s passed=%u failed=%u\n", name, run >= tests_failed ? run - tests_failed : 0,
           tests_failed + suites_failed);
    return tests_failed + suites_failed ? 1 : 0;
}

#endif
