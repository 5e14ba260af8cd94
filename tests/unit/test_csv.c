/* test_csv: the CSV writer (quoting, formula injection, UTF-8) and reader (records, lines). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "core/arena.h"
#include "core/csv.h"
#include "unit.h"

/* One field written alone, as a string (static buffer of the test only). */
static const char *one(const char *s, unsigned flags)
{
    static char out[256];
    struct buf b;

    buf_init(&b);
    csv_field(&b, true, s, s ? strlen(s) : 0, flags);
    snprintf(out, sizeof(out), "%s", b.data);
    buf_release(&b);
    return out;
}

static void test_csv_plain_fields_are_not_quoted(void)
{
    struct buf b;

    buf_init(&b);
    csv_field(&b, true, "a", 1, 0);
    csv_field(&b, false, NULL, 0, 0);
    csv_field(&b, false, "12.50", 5, CSV_NUMERIC);
    csv_row_end(&b);
    CU_ASSERT_STRING_EQUAL(b.data, "a,,12.50\r\n");
    CU_ASSERT_FALSE(b.failed);
    buf_release(&b);
}

static void test_csv_quotes_comma_quote_and_newlines(void)
{
    CU_ASSERT_STRING_EQUAL(one("a,b", 0), "\"a,b\"");
    CU_ASSERT_STRING_EQUAL(one("say \"hi\"", 0), "\"say \"\"hi\"\"\"");
    CU_ASSERT_STRING_EQUAL(one("\"", 0), "\"\"\"\"");
    CU_ASSERT_STRING_EQUAL(one("two\nlines", 0), "\"two\nlines\"");
    CU_ASSERT_STRING_EQUAL(one("cr\rlf\r\n", 0), "\"cr\rlf\r\n\"");
}

static void test_csv_formula_cells_get_a_quote_prefix(void)
{
    CU_ASSERT_STRING_EQUAL(one("=1+2", 0), "\"'=1+2\"");
    CU_ASSERT_STRING_EQUAL(one("+1", 0), "\"'+1\"");
    CU_ASSERT_STRING_EQUAL(one("-2+3", 0), "\"'-2+3\"");
    CU_ASSERT_STRING_EQUAL(one("@SUM(A1)", 0), "\"'@SUM(A1)\"");
    CU_ASSERT_STRING_EQUAL(one("\tx", 0), "\"'\tx\"");
    CU_ASSERT_STRING_EQUAL(one("\rx", 0), "\"'\rx\"");
    CU_ASSERT_STRING_EQUAL(one("=HYPERLINK(\"http://x\",\"y\")", 0),
                           "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    /* full-width equals sign U+FF1D */
    CU_ASSERT_STRING_EQUAL(one("\xEF\xBC\x9D"
                               "1+1",
                               0),
                           "\"'\xEF\xBC\x9D"
                           "1+1\"");
    /* not at the start: harmless */
    CU_ASSERT_STRING_EQUAL(one("a=b", 0), "a=b");
}

static void test_csv_numeric_columns_keep_negative_numbers(void)
{
    CU_ASSERT_STRING_EQUAL(one("-3.500", CSV_NUMERIC), "-3.500");
    CU_ASSERT_STRING_EQUAL(one("-12", CSV_NUMERIC), "-12");
    /* a numeric column holding something else is text: still escaped */
    CU_ASSERT_STRING_EQUAL(one("-1+2", CSV_NUMERIC), "\"'-1+2\"");
    CU_ASSERT_STRING_EQUAL(one("=1", CSV_NUMERIC), "\"'=1\"");
    /* the same negative number in a text column is escaped */
    CU_ASSERT_STRING_EQUAL(one("-3.500", 0), "\"'-3.500\"");
    CU_ASSERT_TRUE(csv_is_number("0", 1));
    CU_ASSERT_FALSE(csv_is_number("-", 1));
    CU_ASSERT_FALSE(csv_is_number("1.", 2));
    CU_ASSERT_FALSE(csv_is_number("1e3", 3));
}

static void test_csv_utf8_passes_through(void)
{
    CU_ASSERT_STRING_EQUAL(one("Café ñandú 日本", 0), "Café ñandú 日本");
    CU_ASSERT_STRING_EQUAL(one("€,5", 0), "\"€,5\"");
}

/* Reads every record of s; returns how many, -1 on error; the fields of record k in f. */
static int read_all(struct arena *a, const char *s, int k, char ***f, size_t *nf, size_t *line,
                    struct app_err *err)
{
    struct csv_reader r;
    char **fields;
    size_t n, l;
    int count = 0, rc;

    csv_reader_init(&r, s, strlen(s));
    while ((rc = csv_read(&r, a, &fields, &n, &l, err)) == 1) {
        if (count == k) {
            *f = fields;
            *nf = n;
            *line = l;
        }
        count++;
    }
    return rc < 0 ? -1 : count;
}

static void test_csv_read_records_and_lines(void)
{
    struct arena *a = arena_new();
    struct app_err err;
    char **f = NULL;
    size_t n = 0, line = 0;
    const char *s = "\xEF\xBB\xBFsku,name\r\nA1,\"two\nlines\"\r\n\nB2,\"x\"\"y\",\n";

    err_clear(&err);
    CU_ASSERT_EQUAL(read_all(a, s, 0, &f, &n, &line, &err), 3);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_STRING_EQUAL(f[0], "sku");
    CU_ASSERT_EQUAL(line, 1);
    CU_ASSERT_EQUAL(read_all(a, s, 1, &f, &n, &line, &err), 3);
    CU_ASSERT_STRING_EQUAL(f[1], "two\nlines");
    CU_ASSERT_EQUAL(line, 2);
    CU_ASSERT_EQUAL(read_all(a, s, 2, &f, &n, &line, &err), 3);
    /* line 2 holds two physical lines, then an empty line 4: B2 is on line 5 */
    CU_ASSERT_EQUAL(line, 5);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_STRING_EQUAL(f[1], "x\"y");
    CU_ASSERT_STRING_EQUAL(f[2], "");
    arena_free(a);
}

static void test_csv_read_round_trips_the_writer(void)
{
    struct arena *a = arena_new();
    struct app_err err;
    struct buf b;
    char **f = NULL;
    size_t n = 0, line = 0;
    const char *in[] = {"a,b", "q\"uote", "multi\r\nline", "", "Ünï"};
    size_t i;

    buf_init(&b);
    for (i = 0; i < 5; i++)
        csv_field(&b, i == 0, in[i], strlen(in[i]), 0);
    csv_row_end(&b);
    err_clear(&err);
    CU_ASSERT_EQUAL(read_all(a, b.data, 0, &f, &n, &line, &err), 1);
    CU_ASSERT_EQUAL(n, 5);
    for (i = 0; i < 5 && i < n; i++)
        CU_ASSERT_STRING_EQUAL(f[i], in[i]);
    buf_release(&b);
    arena_free(a);
}

static void test_csv_read_names_the_malformed_line(void)
{
    struct arena *a = arena_new();
    struct app_err err;
    struct csv_reader r;
    const char *s = "a\n\"two\nlines\"\nb\"c\n";
    char **f;
    size_t n, line;

    err_clear(&err);
    csv_reader_init(&r, s, strlen(s));
    CU_ASSERT_EQUAL(csv_read(&r, a, &f, &n, &line, &err), 1);
    CU_ASSERT_EQUAL(csv_read(&r, a, &f, &n, &line, &err), 1);
    CU_ASSERT_EQUAL(line, 2);
    CU_ASSERT_EQUAL(csv_read(&r, a, &f, &n, &line, &err), -1);
    CU_ASSERT_EQUAL(r.bad_line, 4);
    CU_ASSERT_EQUAL(csv_read(&r, a, &f, &n, &line, &err), 0);
    arena_free(a);
}

/* A quoted field costs its own size, not the rest of the body's (20,000 quoted records). */
static void test_csv_read_memory_follows_the_fields(void)
{
    struct arena *a = arena_new();
    struct app_err err;
    struct csv_reader r;
    struct buf b;
    char **f;
    size_t n, line, count = 0;
    int i;

    buf_init(&b);
    for (i = 0; i < 20000; i++)
        buf_addf(&b, "\"q%d\",\"x\"\"y\",plain\r\n", i);
    err_clear(&err);
    csv_reader_init(&r, b.data, b.len);
    while (csv_read(&r, a, &f, &n, &line, &err) == 1)
        count += n == 3 && !strcmp(f[1], "x\"y");
    CU_ASSERT_EQUAL(count, 20000);
    CU_ASSERT_EQUAL(line, 20000);
    CU_ASSERT(arena_capacity(a) < 8 * b.len);
    buf_release(&b);
    arena_free(a);
}

static void test_csv_read_refuses_malformed(void)
{
    struct arena *a = arena_new();
    struct app_err err;
    char **f;
    size_t n, line;

    err_clear(&err);
    CU_ASSERT_EQUAL(read_all(a, "a,b\n\"open,c\n", 0, &f, &n, &line, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not closed"));
    CU_ASSERT_EQUAL(read_all(a, "a,b\"c\n", 0, &f, &n, &line, &err), -1);
    CU_ASSERT_EQUAL(read_all(a, "\"a\"b\n", 0, &f, &n, &line, &err), -1);
    CU_ASSERT_EQUAL(read_all(a, "\"a\",b\r\n", 0, &f, &n, &line, &err), 1);
    arena_free(a);
}

int test_csv_register(void)
{
    CU_pSuite s = CU_add_suite("csv", NULL, NULL);

    if (!s ||
        !CU_add_test(s, "plain fields are not quoted", test_csv_plain_fields_are_not_quoted) ||
        !CU_add_test(s, "quotes comma, quote and newlines",
                     test_csv_quotes_comma_quote_and_newlines) ||
        !CU_add_test(s, "formula cells get a quote prefix",
                     test_csv_formula_cells_get_a_quote_prefix) ||
        !CU_add_test(s, "numeric columns keep negative numbers",
                     test_csv_numeric_columns_keep_negative_numbers) ||
        !CU_add_test(s, "utf-8 passes through", test_csv_utf8_passes_through) ||
        !CU_add_test(s, "read records and lines", test_csv_read_records_and_lines) ||
        !CU_add_test(s, "read round-trips the writer", test_csv_read_round_trips_the_writer) ||
        !CU_add_test(s, "read refuses malformed", test_csv_read_refuses_malformed) ||
        !CU_add_test(s, "read names the malformed line", test_csv_read_names_the_malformed_line) ||
        !CU_add_test(s, "read memory follows the fields", test_csv_read_memory_follows_the_fields))
        return -1;
    return 0;
}
