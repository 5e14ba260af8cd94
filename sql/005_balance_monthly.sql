-- 005_balance_monthly.sql: what was owed (confirmed sales minus payments) per tenant and month,
-- kept in step with balance_daily by a trigger, in the same transaction as the change.
--
-- A balance series starts from what was owed before its first day. Summing that from
-- balance_daily reads every earlier day of the tenant's history (about 700 rows for two years,
-- most of the series' time at the database); with this table it is one row per earlier month
-- plus the earlier days of the first month.
CREATE TABLE balance_monthly (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    month       date NOT NULL, -- its first day
    owed_cents  bigint NOT NULL DEFAULT 0,
    CONSTRAINT balance_monthly_pkey PRIMARY KEY (tenant_id, month),
    CONSTRAINT balance_monthly_month_check CHECK (extract(day FROM month) = 1)
);

CREATE FUNCTION stock_balance_monthly_add(t bigint, d date, cents bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO balance_monthly (tenant_id, month, owed_cents)
    SELECT t, date_trunc('month', d::timestamp)::date, cents
    WHERE cents <> 0
      -- A tenant being deleted takes its rows with it (ON DELETE CASCADE): add nothing then.
      AND EXISTS (SELECT 1 FROM tenants WHERE id = t)
    ON CONFLICT (tenant_id, month)
    DO UPDATE SET owed_cents = balance_monthly.owed_cents + EXCLUDED.owed_cents;
$$;

CREATE FUNCTION stock_balance_monthly_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM stock_balance_monthly_add(OLD.tenant_id, OLD.day,
            -(OLD.sales_cents - OLD.cash_cents - OLD.card_cents - OLD.transfer_cents));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM stock_balance_monthly_add(NEW.tenant_id, NEW.day,
            NEW.sales_cents - NEW.cash_cents - NEW.card_cents - NEW.transfer_cents);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER balance_daily_monthly AFTER INSERT OR UPDATE OR DELETE ON balance_daily
    FOR EACH ROW EXECUTE FUNCTION stock_balance_monthly_sync();

INSERT INTO balance_monthly (tenant_id, month, owed_cents)
SELECT tenant_id, date_trunc('month', day::timestamp)::date,
       sum(sales_cents - cash_cents - card_cents - transfer_cents)
FROM balance_daily
GROUP BY 1, 2
HAVING sum(sales_cents - cash_cents - card_cents - transfer_cents) <> 0;
