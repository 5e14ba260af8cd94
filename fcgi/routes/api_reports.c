/* api_reports: GET /reports/sales (SPEC §12). */
#include <string.h>

#include "routes/api.h"
#include "services/reports.h"

/* The query of GET /reports/sales; 422 naming the parameter (dates are checked by the service). */
static int report_query_of(const struct http_req *req, struct report_query *q, struct app_err *err)
{
    const char *g = http_query(req, "group");

    memset(q, 0, sizeof(*q));
    q->from = http_query(req, "from");
    q->to = http_query(req, "to");
    if (!q->from || !*q->from)
        return err_set_full(err, ERR_INVALID, "required", "from", "'from' is required");
    if (!q->to || !*q->to)
        return err_set_full(err, ERR_INVALID, "required", "to", "'to' is required");
    if (g && !*g)
        g = NULL;
    if (reports_group_parse(g, &q->group))
        return err_set_full(err, ERR_INVALID, "invalid_parameter", "group",
                            "'group' must be product, category, day, week or month");
    if (http_query_i64(req, "limit", 1, REPORTS_LIMIT_MAX, REPORTS_LIMIT_DEFAULT, &q->limit, err) ||
        http_query_i64(req, "offset", 0, 1000000000, 0, &q->offset, err))
        return -1;
    return 0;
}

const char *api_reports_sales_key(struct http_req *req)
{
    struct report_query q;
    struct app_err verr;

    err_clear(&verr);
    if (report_query_of(req, &q, &verr) || strlen(q.from) != 10 || strlen(q.to) != 10)
        return NULL;
    return reports_sales_key(req->arena, &q);
}

int api_reports_sales(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                      struct app_err *err)
{
    struct report_query q;

    if (report_query_of(req, &q, err) || reports_sales(&x->c, &q, &x->out, err))
        return -1;
    api_send(resp, 200, &x->out);
    return 0;
}
