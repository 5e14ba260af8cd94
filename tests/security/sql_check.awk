# sql_check.awk: flags SQL built from strings in C sources (mawk/gawk; used by sql_check.sh).
#
# Usage: awk -f sql_check.awk FILE.c FILE.h ...   Prints one line per finding,
# "FILE:LINE: RULE: message", and nothing when the sources are clean; exit status 1 when it
# found something. With -v debug=1 it also prints the sinks it knows and how many SQL
# arguments it checked ("debug: ..." lines), so a caller can tell that it saw the code.
#
# It tokenizes C (comments dropped, string literals kept, #define bodies stored apart) and
# applies three rules:
#
#  sql-arg  The SQL argument of every SQL sink must be constant text: string literals, macros
#           that expand to string literals only (PRId64 and friends count), a variable whose
#           every assignment is such text (`static const char sql[] = "..."`), a field named
#           `sql` / `*_sql` (`seed_sales_sql[i].sql`, `m->sql`: their writes are checked by the
#           field rule below), or the enclosing function's own parameter named `sql` / `*_sql`.
#           The sinks are libpq's PQexec, PQexecParams, PQprepare, PQsendQuery,
#           PQsendQueryParams and PQsendPrepare, plus every function that has a `char` parameter
#           named `sql` or `*_sql` (db_exec, db_exec_script, db_run, write_json, delete_row,
#           catalog_read_json...): such a wrapper may pass its parameter on because its own
#           callers are checked at that position. A wrapper that names the parameter otherwise
#           is caught at the libpq/db_exec call inside it.
#  field    Every write of a field named `sql` / `*_sql` (`x.sql = E`, `p->sql = E`, a
#           designated `.sql = E`, and the positional initializers `struct T v = {...}` and
#           tables `struct T v[] = {{...}, ...}` of a struct with such a field) must be constant
#           text as above.
#  format   No printf-like call (`*printf`, `*_addf`, `*_appendf`) may format text holding an
#           upper-case SQL keyword (SELECT, INSERT, UPDATE, DELETE, WHERE, FROM, VALUES, CREATE,
#           DROP, ALTER, TRUNCATE, GRANT; not SET, which Redis commands use) with a conversion
#           (%s, %d, "%" PRId64...), and no string-append call (strcat, strcpy, buf_adds, ...)
#           may append text holding one.
#
# Why the wrapper rule: fcgi/core/db.c hands its `sql` parameter to PQexec/PQexecParams/
# PQprepare; flagging those calls would be a false positive, so a function's own `sql`
# parameter is accepted there, and in exchange every call of that function is checked at that
# argument. The rule is narrow: only a parameter whose name is `sql` / `*_sql` and whose type is
# a char pointer, only inside the function that declares it, and only while that function
# assigns it nothing else.
#
# Known limits (by design, kept narrow): keywords are matched in upper case only (lower case
# would flag English messages such as "cannot update %s"); a ternary of two literals is refused
# (write two calls); SQL sink calls inside function-like macros are reported, not analysed;
# conditional compilation is read as if every branch were compiled.

BEGIN {
    NT = 0
    NFILES = 0
    # The libpq sinks: name -> positions (1-based) of the SQL argument.
    SINK["PQexec"] = "2"
    SINK["PQexecParams"] = "2"
    SINK["PQprepare"] = "3"
    SINK["PQsendQuery"] = "2"
    SINK["PQsendQueryParams"] = "2"
    SINK["PQsendPrepare"] = "3"
    # db.h's entry points, also when db.h is not among the scanned files (planted samples).
    SINK["db_exec"] = "3"
    SINK["db_exec_script"] = "2"
    split("-> == != <= >= && || ++ -- += -= *= /= %= &= |= ^= << >> ##", o2, " ")
    for (k in o2)
        OP2[o2[k]] = 1
    split("+= -= *= /= %= &= |= ^=", o3, " ")
    for (k in o3)
        COMPOUND[o3[k]] = 1
    split("snprintf sprintf vsnprintf vsprintf strcpy strncpy strcat strncat stpcpy strlcpy " \
          "strlcat memcpy memmove", o4, " ")
    for (k in o4)
        WRITER[o4[k]] = 1
    split("strcat strncat strcpy strncpy stpcpy strlcpy strlcat buf_adds buf_add buf_append " \
          "buf_puts", o5, " ")
    for (k in o5)
        APPENDER[o5[k]] = 1
    for (k in SINK)
        SINKPOS[k, SINK[k]] = 1
    KW = "(^|[^A-Za-z0-9_])(SELECT|INSERT|UPDATE|DELETE|WHERE|FROM|VALUES|CREATE|DROP|ALTER|TRUNCATE|GRANT)([^A-Za-z0-9_]|$)"
    CONV = "%[-+ #0]*[0-9*]*([.][0-9*]+)?(hh|h|ll|l|L|q|j|z|t)?[diouxXeEfFgGcsp]"
}

FNR == 1 {
    NFILES++
    FILES[NFILES] = FILENAME
    inc = 0
    indir = 0
}

{
    line = $0
    # Preprocessor lines (with their continuations) are kept apart from the token stream.
    if (indir || (!inc && line ~ /^[ \t]*#/)) {
        if (!indir) {
            dirtext = ""
            dirline = FNR
        }
        cont = (line ~ /\\[ \t]*$/)
        if (cont)
            sub(/\\[ \t]*$/, "", line)
        dirtext = dirtext " " line
        indir = cont
        if (!cont)
            directive(dirtext, dirline)
        next
    }
    lex(line, FNR)
}

function add(ty, tx, ln)
{
    NT++
    T[NT] = tx
    TY[NT] = ty
    TL[NT] = ln
    TF[NT] = NFILES
}

# Appends the tokens of s (line ln) to T/TY/TL/TF; `inc` carries a block comment over lines.
function lex(s, ln,    i, n, c, c2, j, d)
{
    n = length(s)
    i = 1
    while (i <= n) {
        if (inc) {
            j = index(substr(s, i), "*/")
            if (!j)
                return
            i += j + 1
            inc = 0
            continue
        }
        c = substr(s, i, 1)
        if (c == " " || c == "\t" || c == "\r" || c == "\f") {
            i++
            continue
        }
        c2 = substr(s, i, 2)
        if (c2 == "/*") {
            inc = 1
            i += 2
            continue
        }
        if (c2 == "//")
            return
        if (c == "\"" || c == "'") {
            j = i + 1
            while (j <= n) {
                d = substr(s, j, 1)
                if (d == "\\") {
                    j += 2
                    continue
                }
                if (d == c)
                    break
                j++
            }
            add(c == "\"" ? "s" : "c", substr(s, i + 1, j - i - 1), ln)
            i = j + 1
            continue
        }
        if (c ~ /[A-Za-z_]/) {
            match(substr(s, i), /^[A-Za-z_][A-Za-z0-9_]*/)
            add("i", substr(s, i, RLENGTH), ln)
            i += RLENGTH
            continue
        }
        if (c ~ /[0-9]/) {
            match(substr(s, i), /^[0-9][A-Za-z0-9_.]*/)
            add("n", substr(s, i, RLENGTH), ln)
            i += RLENGTH
            continue
        }
        if (c2 in OP2) {
            add("p", c2, ln)
            i += 2
            continue
        }
        add("p", c, ln)
        i++
    }
}

# #define NAME body: object-like macros are stored (MB/MBT/MBN) to tell literal macros;
# function-like ones are stored (FMB...) to report SQL sinks called inside them.
function directive(text, ln,    name, rest, start, k, fl)
{
    if (text !~ /^[ \t]*#[ \t]*define[ \t]+[A-Za-z_]/)
        return
    sub(/^[ \t]*#[ \t]*define[ \t]+/, "", text)
    match(text, /^[A-Za-z_][A-Za-z0-9_]*/)
    name = substr(text, 1, RLENGTH)
    rest = substr(text, RLENGTH + 1)
    fl = (substr(rest, 1, 1) == "(")
    start = NT + 1
    lex(rest, ln)
    inc = 0
    if (fl) {
        NFM++
        FMNAME[NFM] = name
        FMFILE[NFM] = NFILES
        FMLINE[NFM] = ln
        FMN[NFM] = NT - start + 1
        for (k = start; k <= NT; k++)
            FMB[NFM, k - start + 1] = T[k]
    } else {
        MBN[name] = NT - start + 1
        for (k = start; k <= NT; k++) {
            MB[name, k - start + 1] = T[k]
            MBT[name, k - start + 1] = TY[k]
        }
    }
    NT = start - 1
}

# 1 when macro `name` expands to string literals only (parentheses allowed).
function maclit(name,    k, st)
{
    if (name in MLIT)
        return MLIT[name]
    if (name ~ /^PRI[diouxX]/)
        return MLIT[name] = 1
    if (!(name in MBN) || MBN[name] == 0)
        return MLIT[name] = 0
    MLIT[name] = 0
    st = 0
    for (k = 1; k <= MBN[name]; k++) {
        if (MBT[name, k] == "s")
            st = 1
        else if (MBT[name, k] == "p" && (MB[name, k] == "(" || MB[name, k] == ")"))
            continue
        else if (MBT[name, k] == "i" && maclit(MB[name, k]))
            st = 1
        else
            return MLIT[name] = 0
    }
    return MLIT[name] = st
}

# The text a literal macro expands to (PRIxx -> "d", a conversion of its own).
function mactext(name,    k, s)
{
    if (name ~ /^PRI[diouxX]/)
        return "d"
    s = ""
    for (k = 1; k <= MBN[name]; k++) {
        if (MBT[name, k] == "s")
            s = s MB[name, k]
        else if (MBT[name, k] == "i")
            s = s mactext(MB[name, k])
    }
    return s
}

function sqlname(x)
{
    return x ~ /(^|_)sql$/
}

function report(t, rule, msg)
{
    printf "%s:%d: %s: %s\n", FILES[TF[t]], TL[t], rule, msg
    NREP++
}

function text(a, b,    s, k)
{
    s = ""
    for (k = a; k <= b && k <= NT; k++)
        s = s (TY[k] == "s" ? "\"" T[k] "\"" : T[k]) " "
    if (length(s) > 100)
        s = substr(s, 1, 97) "..."
    return s
}

# The last token of the expression that starts at s: stops before ; or , at its level, or
# before the closer of an enclosing bracket.
function expr_end(s,    k)
{
    for (k = s; k <= NT; k++) {
        if (TY[k] != "p")
            continue
        if (T[k] == "(" || T[k] == "[" || T[k] == "{") {
            if (k in MATCH)
                k = MATCH[k]
            continue
        }
        if (T[k] == ";" || T[k] == "," || T[k] == ")" || T[k] == "]" || T[k] == "}")
            return k - 1
    }
    return NT
}

# Splits the tokens a..b at the commas of their level into PS[1..n]/PE[1..n]; returns n.
function split_args(a, b,    k, n)
{
    n = 0
    if (a > b)
        return 0
    n = 1
    PS[1] = a
    for (k = a; k <= b; k++) {
        if (TY[k] == "p" && (T[k] == "(" || T[k] == "[" || T[k] == "{") && (k in MATCH)) {
            k = MATCH[k]
            continue
        }
        if (TY[k] == "p" && T[k] == ",") {
            PE[n] = k - 1
            n++
            PS[n] = k + 1
        }
    }
    PE[n] = b
    return n
}

# 1 when a..b is constant text: string literals and literal macros, in parentheses or not.
function expr_literal(a, b,    k, st)
{
    st = 0
    for (k = a; k <= b; k++) {
        if (TY[k] == "s")
            st = 1
        else if (TY[k] == "p" && (T[k] == "(" || T[k] == ")"))
            continue
        else if (TY[k] == "i" && maclit(T[k]))
            st = 1
        else
            return 0
    }
    return st
}

# 1 when a..b is a constant table initializer: literals, numbers, NULL, literal macros,
# braces, commas and designators.
function table_literal(a, b,    k)
{
    for (k = a; k <= b; k++) {
        if (TY[k] == "s" || TY[k] == "n" || TY[k] == "c")
            continue
        if (TY[k] == "p" && (T[k] ~ /^[{}(),.=-]$/))
            continue
        if (TY[k] == "i" && (T[k] == "NULL" || T[k] == "true" || T[k] == "false" || maclit(T[k]) ||
                             T[k - 1] == "."))
            continue
        return 0
    }
    return 1
}

# "" when the expression a..b, in function f, is constant SQL text; else why not.
function check_expr(a, b, f,    x, key, k)
{
    if (a > b)
        return "empty argument"
    while (TY[a] == "p" && T[a] == "(" && (a in MATCH) && MATCH[a] == b) {
        a++
        b--
    }
    if (expr_literal(a, b))
        return ""
    if (a == b && TY[a] == "i") {
        x = T[a]
        key = f SUBSEP x
        if (key in VST)
            return VST[key] ? "" : "variable '" x "' is assigned something other than string literals"
        if (key in DECL)
            return "variable '" x "' is declared without a string-literal initializer"
        if ((f, x) in SQLPARAM)
            return ""
        key = "F" TF[a] SUBSEP x
        if (key in VST)
            return VST[key] ? "" : "variable '" x "' is assigned something other than string literals"
        key = "G" SUBSEP x
        if ((key in VST) && VST[key])
            return ""
        return "'" x "' is neither a string literal nor a constant of literals nor a SQL parameter"
    }
    # A field chain ending in a field named sql: a.b[i].sql, p->sql.
    if (TY[b] == "i" && sqlname(T[b]) && b - 1 > a && (T[b - 1] == "." || T[b - 1] == "->")) {
        for (k = a; k < b - 1; k++) {
            if (TY[k] == "i" || T[k] == "." || T[k] == "->")
                continue
            if (T[k] == "[" && (k in MATCH)) {
                k = MATCH[k]
                continue
            }
            if (T[k] == "&" && k == a)
                continue
            break
        }
        if (k >= b - 1)
            return ""
    }
    return "not a string literal (SQL must not be built at run time)"
}

# Positional initializer {..} at o of struct s in function f: its sql fields must be constant.
function check_init_one(s, o, f,    n, k, r, lastk)
{
    if (!(o in MATCH))
        return
    n = split_args(o + 1, MATCH[o] - 1)
    for (k = 1; k <= n; k++) {
        IS[k] = PS[k]
        IE[k] = PE[k]
    }
    for (k = 1; k <= n && k <= SFN[s]; k++) {
        if (!sqlname(SF[s, k]) || IS[k] > IE[k])
            continue
        if (T[IS[k]] == ".")
            return # designated: the field rule sees `.sql = E`
        r = check_expr(IS[k], IE[k], f)
        if (r != "")
            report(IS[k], "field", "initializer of " s "." SF[s, k] ": " r ": " text(IS[k], IE[k]))
    }
}

function check_init(s, o, f,    n, k, es)
{
    if (T[o + 1] == "{") {
        n = split_args(o + 1, MATCH[o] - 1)
        for (k = 1; k <= n; k++)
            es[k] = PS[k]
        for (k = 1; k <= n; k++)
            if (T[es[k]] == "{")
                check_init_one(s, es[k], f)
        return
    }
    check_init_one(s, o, f)
}

# The struct type of the declaration whose declarator name is at token d, or "".
function struct_of_decl(d,    u)
{
    u = d - 1
    while (u > 0 && (T[u] == "*" || T[u] == "const"))
        u--
    if (T[u] == "}" && (u in STRUCT_CLOSE))
        return STRUCT_CLOSE[u]
    if (TY[u] == "i" && T[u - 1] == "struct")
        return T[u]
    return ""
}

# The fields of the struct body { at o .. MATCH[o] }, in order, into SF[s, k] / SFN[s].
function struct_fields(s, o,    e, a, k, n, m, j, last)
{
    e = MATCH[o]
    SFN[s] = 0
    a = o + 1
    for (k = o + 1; k <= e; k++) {
        if (T[k] == "{" && (k in MATCH) && k != o) {
            k = MATCH[k]
            continue
        }
        if (T[k] != ";" && k != e)
            continue
        if (k > a) {
            n = split_args(a, k - 1)
            for (m = 1; m <= n; m++) {
                last = ""
                for (j = PS[m]; j <= PE[m]; j++) {
                    if ((T[j] == "[" || T[j] == "{" || T[j] == "(") && (j in MATCH) && T[j] != "(") {
                        j = MATCH[j]
                        continue
                    }
                    if (T[j] == ":")
                        break
                    if (TY[j] == "i")
                        last = T[j]
                }
                SFN[s]++
                SF[s, SFN[s]] = last
            }
        }
        a = k + 1
    }
}

END {
    # Brackets matched per file (MATCH both ways).
    sp = 0
    pf = 0
    for (t = 1; t <= NT; t++) {
        if (TF[t] != pf) {
            sp = 0
            pf = TF[t]
        }
        if (TY[t] != "p")
            continue
        if (T[t] == "(" || T[t] == "[" || T[t] == "{") {
            STK[++sp] = t
        } else if (T[t] == ")" || T[t] == "]" || T[t] == "}") {
            if (sp > 0) {
                MATCH[STK[sp]] = t
                MATCH[t] = STK[sp]
                sp--
            }
        }
    }

    # Function definitions and prototypes at file level; sinks found by parameter name; the
    # function of every token (FN, 0 outside any body); struct bodies.
    depth = 0
    cur = 0
    pf = 0
    NFN = 0
    for (t = 1; t <= NT; t++) {
        if (TF[t] != pf) {
            depth = 0
            cur = 0
            pf = TF[t]
        }
        if (depth == 0 && TY[t] == "i" && T[t + 1] == "(" && ((t + 1) in MATCH) &&
            T[t - 1] != "=" && T[t] != "sizeof" && T[t] != "__attribute__") {
            c = MATCH[t + 1]
            u = c + 1
            while (T[u] == "__attribute__" && T[u + 1] == "(" && ((u + 1) in MATCH))
                u = MATCH[u + 1] + 1
            if (T[u] == "{" || T[u] == ";") {
                n = split_args(t + 2, c - 1)
                if (T[u] == "{") {
                    NFN++
                    FNNAME[NFN] = T[t]
                    DEFBRACE[u] = NFN
                }
                for (m = 1; m <= n; m++) {
                    last = ""
                    haschar = 0
                    for (j = PS[m]; j <= PE[m]; j++) {
                        if (T[j] == "[" && (j in MATCH)) {
                            j = MATCH[j]
                            continue
                        }
                        if (T[j] == "char")
                            haschar = 1
                        if (TY[j] == "i")
                            last = T[j]
                    }
                    if (haschar && sqlname(last)) {
                        if (T[u] == "{")
                            SQLPARAM[NFN, last] = 1
                        if (!((T[t] SUBSEP m) in SINKPOS)) {
                            SINKPOS[T[t], m] = 1
                            prev = (T[t] in SINK) ? SINK[T[t]] " " : ""
                            SINK[T[t]] = prev m
                        }
                    }
                }
            }
        }
        if (TY[t] == "i" && T[t] == "struct") {
            o = (TY[t + 1] == "i") ? t + 2 : t + 1
            if (T[o] == "{" && (o in MATCH)) {
                s = (TY[t + 1] == "i") ? T[t + 1] : "anon@" t
                struct_fields(s, o)
                STRUCT_CLOSE[MATCH[o]] = s
            }
        }
        if (TY[t] == "p" && T[t] == "{") {
            if (depth == 0 && (t in DEFBRACE))
                cur = DEFBRACE[t]
            depth++
        } else if (TY[t] == "p" && T[t] == "}") {
            depth--
            if (depth <= 0) {
                depth = 0
                FN[t] = cur
                cur = 0
                continue
            }
        }
        FN[t] = cur
    }

    # Variables: which ones only ever hold string literals (VST), per function ("f SUBSEP
    # name"), per file at file level ("F<file>" SUBSEP name) and anywhere at file level ("G").
    for (t = 1; t <= NT; t++) {
        if (TY[t] != "p")
            continue
        if ((T[t] in COMPOUND) && TY[t - 1] == "i") {
            VST[FN[t] SUBSEP T[t - 1]] = 0
            continue
        }
        if (T[t] != "=")
            continue
        d = t - 1
        if (T[d] == "]" && (d in MATCH))
            d = MATCH[d] - 1
        if (TY[d] != "i")
            continue
        name = T[d]
        rs = t + 1
        re = (T[rs] == "{" && (rs in MATCH)) ? MATCH[rs] : expr_end(rs)
        if (T[d - 1] == "." || T[d - 1] == "->") {
            if (sqlname(name)) {
                r = check_expr(rs, re, FN[t])
                if (r != "")
                    report(t, "field", "write of field '" name "': " r ": " text(rs, re))
            }
            continue
        }
        if (T[rs] == "{") {
            ok = table_literal(rs, re)
            s = struct_of_decl(d)
            if (s != "")
                STRUCT_INIT[t] = s
        } else {
            ok = expr_literal(rs, re)
        }
        if (FN[t]) {
            key = FN[t] SUBSEP name
            if (!(key in VST) || !ok)
                VST[key] = ok
        } else {
            key = "F" TF[t] SUBSEP name
            if (!(key in VST) || !ok)
                VST[key] = ok
            key = "G" SUBSEP name
            if (!(key in VST) || !ok)
                VST[key] = ok
        }
    }
    # Locals declared without an initializer (`char sql[256];`, `const char *q;`), and
    # variables written by string functions (snprintf(sql, ...), strcpy(sql, ...)).
    for (t = 2; t <= NT; t++) {
        if (TY[t] != "i" || !FN[t])
            continue
        if ((T[t - 1] == "char" || T[t - 1] == "*") && T[t + 1] != "=" && T[t + 1] != "(") {
            nx = t + 1
            if (T[nx] == "[" && (nx in MATCH))
                nx = MATCH[nx] + 1
            if (T[nx] == ";" || T[nx] == ",")
                DECL[FN[t] SUBSEP T[t]] = 1
        }
        if ((T[t] in WRITER) && T[t + 1] == "(") {
            a = t + 2
            if (T[a] == "&")
                a++
            if (TY[a] == "i" && (T[a + 1] == "," || T[a + 1] == ")"))
                VST[FN[t] SUBSEP T[a]] = 0
        }
    }
    # Positional initializers of structs with a sql field.
    for (t in STRUCT_INIT) {
        s = STRUCT_INIT[t]
        hassql = 0
        for (k = 1; k <= SFN[s]; k++)
            if (sqlname(SF[s, k]))
                hassql = 1
        if (hassql)
            check_init(s, t + 1, FN[t])
    }

    # sql-arg: the SQL argument of every sink call.
    for (t = 2; t <= NT; t++) {
        if (TY[t] != "i" || !(T[t] in SINK) || T[t + 1] != "(" || !((t + 1) in MATCH) || !FN[t])
            continue
        if (T[t - 1] == "." || T[t - 1] == "->")
            continue
        n = split_args(t + 2, MATCH[t + 1] - 1)
        for (k = 1; k <= n; k++) {
            AS[k] = PS[k]
            AE[k] = PE[k]
        }
        np = split(SINK[T[t]], pos, " ")
        for (k = 1; k <= np; k++) {
            p = pos[k] + 0
            if (p > n)
                continue
            NCHK++
            r = check_expr(AS[p], AE[p], FN[t])
            if (r != "")
                report(t, "sql-arg", T[t] "() argument " p ": " r ": " text(AS[p], AE[p]))
        }
    }

    if (debug) {
        for (k in SINK)
            printf "debug: sink %s at %s\n", k, SINK[k]
        printf "debug: %d sink calls checked\n", NCHK
    }

    # format: printf-like calls formatting SQL text, appends of SQL text.
    for (t = 2; t <= NT; t++) {
        if (TY[t] != "i" || T[t + 1] != "(" || !((t + 1) in MATCH))
            continue
        isfmt = (T[t] ~ /printf$/ || T[t] ~ /_addf$/ || T[t] ~ /_appendf$/)
        isapp = (T[t] in APPENDER)
        if (!isfmt && !isapp)
            continue
        e = MATCH[t + 1]
        grp = ""
        for (k = t + 2; k <= e; k++) {
            if (TY[k] == "s" || (TY[k] == "i" && maclit(T[k]))) {
                grp = grp (TY[k] == "s" ? T[k] : mactext(T[k]))
                continue
            }
            if (grp != "" && grp ~ KW && (isapp || grp ~ CONV))
                report(t, "format", T[t] "() " (isapp ? "appends" : "formats") \
                       " SQL text: \"" substr(grp, 1, 80) "\"")
            grp = ""
        }
    }

    # Function-like macros that call a sink: the checker cannot see their arguments.
    for (m = 1; m <= NFM; m++) {
        for (k = 1; k < FMN[m]; k++) {
            if ((FMB[m, k] in SINK) && FMB[m, k + 1] == "(") {
                printf "%s:%d: sql-arg: macro %s() calls %s(): write the call out so that it " \
                       "is checked\n", FILES[FMFILE[m]], FMLINE[m], FMNAME[m], FMB[m, k]
                NREP++
                break
            }
        }
    }
    exit NREP > 0 ? 1 : 0
}
