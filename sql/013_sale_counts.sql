-- 013_sale_counts.sql: GET /sales counts its total from at most one row per day and status
-- instead of from every sale of the tenant's history (issue 15: bounded lists at 1,000,000
-- sales). sale_counts holds, per tenant, creation day (created_at in the tenant's time zone, the
-- day the list's from/to filter on) and status, how many sales there are; a statement-level
-- trigger keeps it with every INSERT, UPDATE and DELETE of sales, in the same transaction.
-- Locks: a statement takes its count rows in (tenant, day, status) order, and after the sale and
-- product rows it changes (a confirmation or cancellation updates its sale's row first), always
-- before balance_daily; so no lock order is added between two writers. If a tenant's time zone
-- ever changes, stock_sale_counts_rebuild(tenant) recounts its rows from the sales.
CREATE TABLE sale_counts (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day        date NOT NULL,
    status     text NOT NULL,
    n          bigint NOT NULL,
    CONSTRAINT sale_counts_pkey PRIMARY KEY (tenant_id, day, status)
);

CREATE FUNCTION stock_sale_counts_rebuild(t bigint) RETURNS void LANGUAGE sql AS $$
    DELETE FROM sale_counts WHERE tenant_id = t;
    INSERT INTO sale_counts (tenant_id, day, status, n)
    SELECT s.tenant_id, (s.created_at AT TIME ZONE z.timezone)::date, s.status, count(*)
    FROM sales s JOIN tenants z ON z.id = s.tenant_id WHERE s.tenant_id = t GROUP BY 1, 2, 3;
$$;

INSERT INTO sale_counts (tenant_id, day, status, n)
SELECT s.tenant_id, (s.created_at AT TIME ZONE z.timezone)::date, s.status, count(*)
FROM sales s JOIN tenants z ON z.id = s.tenant_id GROUP BY 1, 2, 3;

CREATE FUNCTION stock_sale_counts_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sale_counts AS c (tenant_id, day, status, n)
    SELECT r.tenant_id, (r.created_at AT TIME ZONE z.timezone)::date, r.status, count(*)
    FROM new_rows r JOIN tenants z ON z.id = r.tenant_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (tenant_id, day, status) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE FUNCTION stock_sale_counts_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH d AS (
        SELECT tenant_id, day, status, sum(k) AS k FROM (
            SELECT r.tenant_id, (r.created_at AT TIME ZONE z.timezone)::date AS day, r.status,
                   1 AS k
            FROM new_rows r JOIN tenants z ON z.id = r.tenant_id
            UNION ALL
            SELECT r.tenant_id, (r.created_at AT TIME ZONE z.timezone)::date, r.status, -1
            FROM old_rows r JOIN tenants z ON z.id = r.tenant_id
        ) x GROUP BY 1, 2, 3 HAVING sum(k) <> 0)
    INSERT INTO sale_counts AS c (tenant_id, day, status, n)
    SELECT tenant_id, day, status, k FROM d ORDER BY 1, 2, 3
    ON CONFLICT (tenant_id, day, status) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE FUNCTION stock_sale_counts_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sale_counts c SET n = c.n - x.k
    FROM (SELECT r.tenant_id, (r.created_at AT TIME ZONE z.timezone)::date AS day, r.status,
                 count(*) AS k
          FROM old_rows r JOIN tenants z ON z.id = r.tenant_id GROUP BY 1, 2, 3) x
    WHERE c.tenant_id = x.tenant_id AND c.day = x.day AND c.status = x.status;
    RETURN NULL;
END $$;

CREATE TRIGGER sales_counts_ins AFTER INSERT ON sales REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_sale_counts_ins();
CREATE TRIGGER sales_counts_upd AFTER UPDATE ON sales
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_sale_counts_upd();
CREATE TRIGGER sales_counts_del AFTER DELETE ON sales REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_sale_counts_del();
