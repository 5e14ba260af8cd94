/*
 * csv: RFC 4180 CSV, written and read. The writer appends fields to a struct buf (CRLF line
 * ends, a field quoted when it holds a quote, comma, CR or LF) and keeps spreadsheets from
 * running a cell as a formula (OWASP "CSV injection"): a text cell that starts with '=', '+',
 * '-', '@', a tab or a CR (or a full-width ＝ ＋ － ＠) is written quoted with a leading "'".
 * A cell flagged CSV_NUMERIC that is a plain decimal number ("-3.500", "12") is written as it
 * is, so that negative amounts stay numbers; anything else in such a cell is treated as text.
 * The reader splits a body into records with the physical line each starts on.
 */
#ifndef STOCK_CORE_CSV_H
#define STOCK_CORE_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

/* Flags of csv_field. */
#define CSV_NUMERIC 1u /* the column holds numbers: a plain decimal is exempt from the ' prefix */

/* The most fields csv_read takes in one record (more is a malformed record). */
#define CSV_MAX_FIELDS 64

/* True when s[0..n) is a plain decimal number: an optional '-', digits, optionally '.' digits. */
bool csv_is_number(const char *s, size_t n);

/*
 * Appends one field to b: a comma first unless first is true, then s[0..n) quoted as needed
 * (see the top of this file). s NULL is an empty field. Failure is b's sticky `failed`.
 */
void csv_field(struct buf *b, bool first, const char *s, size_t n, unsigned flags);

/* Ends a record: CRLF. */
void csv_row_end(struct buf *b);

/* Where csv_read is in a body (not owned; the body must outlive the reader). */
struct csv_reader {
    const char *p, *end;
    size_t line;     /* the physical line p is on, from 1 */
    size_t bad_line; /* where the malformed record of csv_read's -1 is */
};

/* Starts reading data[0..len); a UTF-8 byte order mark at the start is skipped. */
void csv_reader_init(struct csv_reader *r, const char *data, size_t len);

/*
 * Reads the next record. Fields are copied into the arena, NUL-terminated (*fields[i], *n of
 * them); *line is the physical line the record starts on (a quoted field may span lines). A
 * record ends at LF or CRLF or the end of the body; an empty line is skipped. Returns 1 for a
 * record, 0 at the end, -1 for a malformed one (ERR_INVALID, err->msg says why, r->bad_line where:
 * an unterminated quote, a quote inside an unquoted field, text after a closing quote, more than
 * CSV_MAX_FIELDS fields, a NUL byte); reading cannot go on after -1.
 */
int csv_read(struct csv_reader *r, struct arena *a, char ***fields, size_t *n, size_t *line,
             struct app_err *err) __attribute__((warn_unused_result));

#endif
