-- 003_balance.sql: the per-day summary behind the balance series.
--
-- balance_daily holds, per tenant and day (in the tenant's time zone), the confirmed sales of
-- that day and the payments of that day per method. It is changed in the same transaction as
-- the sale confirmation, cancellation or payment that moves it, so a series over any range
-- reads at most one row per day, however many sales the tenant has: its cost grows with the
-- span asked for, not with the tenant's history.
--
-- sales.balance_day and payments.balance_day remember which day a row was counted on, so a
-- cancellation takes the sale out of the very row it went into, even if the tenant's time
-- zone changed in between.
ALTER TABLE sales ADD COLUMN balance_day date;
ALTER TABLE sales ADD CONSTRAINT sales_balance_day_check
    CHECK ((status = 'draft') = (balance_day IS NULL) OR status = 'cancelled');
ALTER TABLE payments ADD COLUMN balance_day date;
UPDATE payments p SET balance_day = (p.paid_at AT TIME ZONE t.timezone)::date
    FROM tenants t WHERE t.id = p.tenant_id;
ALTER TABLE payments ALTER COLUMN balance_day SET NOT NULL;

-- Amounts are whole cents in bigint: integer sums are several times cheaper than numeric ones
-- on the read path, and a summary row holds totals only (the sales and payments stay numeric).
CREATE TABLE balance_daily (
    tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day             date NOT NULL,
    sales_count     bigint NOT NULL DEFAULT 0,
    sales_cents     bigint NOT NULL DEFAULT 0,
    cash_cents      bigint NOT NULL DEFAULT 0,
    card_cents      bigint NOT NULL DEFAULT 0,
    transfer_cents  bigint NOT NULL DEFAULT 0,
    CONSTRAINT balance_daily_pkey PRIMARY KEY (tenant_id, day)
);

-- Rebuilds a tenant's summary from the raw rows (seeding, repair, and the tests' independent
-- check all use it). Runs in the caller's transaction.
CREATE FUNCTION stock_balance_rebuild(t bigint) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM balance_daily WHERE tenant_id = t;
    INSERT INTO balance_daily (tenant_id, day, sales_count, sales_cents, cash_cents, card_cents,
                               transfer_cents)
    SELECT t, day, sum(n), (sum(total) * 100)::bigint, (sum(cash) * 100)::bigint,
           (sum(card) * 100)::bigint, (sum(transfer) * 100)::bigint
    FROM (
        SELECT balance_day AS day, count(*) AS n, sum(total) AS total, 0 AS cash, 0 AS card,
               0 AS transfer
        FROM sales WHERE tenant_id = t AND status = 'confirmed' GROUP BY balance_day
        UNION ALL
        SELECT balance_day, 0, 0,
               coalesce(sum(amount) FILTER (WHERE method = 'cash'), 0),
               coalesce(sum(amount) FILTER (WHERE method = 'card'), 0),
               coalesce(sum(amount) FILTER (WHERE method = 'transfer'), 0)
        FROM payments WHERE tenant_id = t GROUP BY balance_day
    ) x
    GROUP BY day;
$$;

CREATE INDEX payments_balance_day_idx ON payments (tenant_id, balance_day);
CREATE INDEX sales_created_day_idx ON sales (tenant_id, id DESC);
