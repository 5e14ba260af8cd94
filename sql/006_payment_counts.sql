-- 006_payment_counts.sql: how many payments each day had per method, beside their amounts in
-- balance_daily (same row, same transaction), so that GET /payments counts its total from at most
-- one row per day instead of from every payment of the tenant's history.
ALTER TABLE balance_daily
    ADD COLUMN cash_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN card_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN transfer_count bigint NOT NULL DEFAULT 0;

UPDATE balance_daily b
SET cash_count = x.cash, card_count = x.card, transfer_count = x.transfer
FROM (
    SELECT tenant_id, balance_day, count(*) FILTER (WHERE method = 'cash') AS cash,
           count(*) FILTER (WHERE method = 'card') AS card,
           count(*) FILTER (WHERE method = 'transfer') AS transfer
    FROM payments GROUP BY tenant_id, balance_day
) x
WHERE b.tenant_id = x.tenant_id AND b.day = x.balance_day;

-- As in 003, with the counts.
CREATE OR REPLACE FUNCTION stock_balance_rebuild(t bigint) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM balance_daily WHERE tenant_id = t;
    INSERT INTO balance_daily (tenant_id, day, sales_count, sales_cents, cash_cents, card_cents,
                               transfer_cents, cash_count, card_count, transfer_count)
    SELECT t, day, sum(n), (sum(total) * 100)::bigint, (sum(cash) * 100)::bigint,
           (sum(card) * 100)::bigint, (sum(transfer) * 100)::bigint, sum(ncash), sum(ncard),
           sum(ntransfer)
    FROM (
        SELECT balance_day AS day, count(*) AS n, sum(total) AS total, 0 AS cash, 0 AS card,
               0 AS transfer, 0 AS ncash, 0 AS ncard, 0 AS ntransfer
        FROM sales WHERE tenant_id = t AND status = 'confirmed' GROUP BY balance_day
        UNION ALL
        SELECT balance_day, 0, 0,
               coalesce(sum(amount) FILTER (WHERE method = 'cash'), 0),
               coalesce(sum(amount) FILTER (WHERE method = 'card'), 0),
               coalesce(sum(amount) FILTER (WHERE method = 'transfer'), 0),
               count(*) FILTER (WHERE method = 'cash'),
               count(*) FILTER (WHERE method = 'card'),
               count(*) FILTER (WHERE method = 'transfer')
        FROM payments WHERE tenant_id = t GROUP BY balance_day
    ) x
    GROUP BY day;
$$;
