/* log: leveled stderr logging with a request prefix. */
#include "core/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_min = LOG_INFO;
static char log_req_id[48];
static int64_t log_tenant = -1;

int log_level_parse(const char *s, enum log_level *out)
{
    if (!strcasecmp(s, "debug"))
        *out = LOG_DEBUG;
    else if (!strcasecmp(s, "info"))
        *out = LOG_INFO;
    else if (!strcasecmp(s, "warning") || !strcasecmp(s, "warn"))
        *out = LOG_WARN;
    else if (!strcasecmp(s, "error"))
        *out = LOG_ERROR;
    else
        return -1;
    return 0;
}

void log_set_level(enum log_level level)
{
    log_min = level;
}

bool log_enabled(enum log_level level)
{
    return level >= log_min;
}

void log_set_request(const char *id, int64_t tenant)
{
    size_t i, n = 0;

    /* Keep only characters that cannot break the line format. */
    if (id) {
        for (i = 0; id[i] && n < sizeof(log_req_id) - 1; i++) {
            char c = id[i];

            if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                c == '-' || c == '_' || c == '.')
                log_req_id[n++] = c;
        }
    }
    log_req_id[n] = '\0';
    log_tenant = tenant;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    char line[2048];
    size_t n;
    int w;
    struct timeval tv;
    struct tm tm;
    va_list ap;

    if (level < log_min)
        return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    w = snprintf(line + n, sizeof(line) - n, ".%03ldZ level=%s pid=%ld", (long)(tv.tv_usec / 1000),
                 names[level], (long)getpid());
    n += w > 0 ? (size_t)w : 0;
    if (log_req_id[0] && n < sizeof(line)) {
        w = snprintf(line + n, sizeof(line) - n, " req=%s", log_req_id);
        n += w > 0 ? (size_t)w : 0;
    }
    if (log_tenant >= 0 && n < sizeof(line)) {
        w = snprintf(line + n, sizeof(line) - n, " tenant=%" PRId64, log_tenant);
        n += w > 0 ? (size_t)w : 0;
    }
    if (n < sizeof(line) - 1) {
        line[n++] = ' ';
        va_start(ap, fmt);
        w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        va_end(ap);
        n += w > 0 ? (size_t)w : 0;
    }
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    /* One line per event: newlines inside a message would let input forge log lines. */
    for (size_t i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    /* A single write keeps lines from different workers whole. */
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}
