-- 016_sale_costs.sql: the cost of goods at the time of sale, and the per-day summary behind
-- GET /reports/sales (SPEC §12).
--
-- The time of sale is the confirmation: services/sales.c copies products.cost into
-- sale_lines.unit_cost in the confirming transaction, after it has locked the products (FOR
-- UPDATE, move_stock) and before the sale's status changes. That is the moment the goods leave
-- the stock and the sale enters the balance (confirmed_at, balance_day); a draft may wait for
-- days while its products' costs change, and under the product lock a concurrent cost edit is
-- either wholly before the confirmation or wholly after it. A draft's lines have no unit_cost.
--
-- Lines older than this migration: a confirmed or cancelled sale's lines get the product's cost
-- at the time of this migration (its only cost we know), marked cost_estimated. The report
-- counts them in cost_total like any other line and flags every row (and the totals) that
-- includes one: "cost_estimated": true.
ALTER TABLE sale_lines ADD COLUMN unit_cost numeric(14, 2);
ALTER TABLE sale_lines ADD COLUMN cost_estimated boolean NOT NULL DEFAULT false;
ALTER TABLE sale_lines ADD CONSTRAINT sale_lines_unit_cost_check CHECK (unit_cost >= 0);
UPDATE sale_lines l SET unit_cost = p.cost, cost_estimated = true
    FROM sales s, products p
    WHERE s.tenant_id = l.tenant_id AND s.id = l.sale_id AND s.status <> 'draft'
      AND p.tenant_id = l.tenant_id AND p.id = l.product_id;

-- A returned piece takes back its cost: valued like its price (services/returns.c), as
-- round(hi * unit_cost, 2) - round(lo * unit_cost, 2) on the sale line's cumulative returned
-- quantity, so a line returned whole, in any number of returns, gives back exactly its cost.
-- Older return lines: the unit_cost of the sale's line of that product and price (estimated
-- like it), and round(quantity * unit_cost, 2).
ALTER TABLE sale_return_lines ADD COLUMN unit_cost numeric(14, 2);
ALTER TABLE sale_return_lines ADD COLUMN cost_total numeric(14, 2);
ALTER TABLE sale_return_lines ADD COLUMN cost_estimated boolean NOT NULL DEFAULT false;
UPDATE sale_return_lines r SET unit_cost = x.c, cost_total = round(r.quantity * x.c, 2),
       cost_estimated = true
    FROM (SELECT r2.id, coalesce((SELECT l.unit_cost FROM sale_lines l
                                  WHERE l.tenant_id = r2.tenant_id AND l.sale_id = r2.sale_id
                                    AND l.product_id = r2.product_id
                                  ORDER BY (l.unit_price = r2.unit_price) DESC, l.id LIMIT 1),
                                 0) AS c
          FROM sale_return_lines r2) x
    WHERE x.id = r.id;
ALTER TABLE sale_return_lines ALTER COLUMN unit_cost SET NOT NULL;
ALTER TABLE sale_return_lines ALTER COLUMN cost_total SET NOT NULL;
ALTER TABLE sale_return_lines ADD CONSTRAINT sale_return_lines_cost_check
    CHECK (unit_cost >= 0 AND cost_total >= 0);

-- report_daily: per tenant, day (the tenant's time zone: the balance_day of the sale's
-- confirmation, or of the return, the days of the balance series) and product, what the
-- confirmed sales and the returns of that day add up to. A report over any range reads at
-- most days x products rows, however many sales the tenant has (fewer with the roll-ups
-- below); weeks, months and categories are summed at read time (a product's category is its
-- current one).
--   qty_milli      sold minus returned quantity, in thousandths
--   sales_cents    sum of the sold lines' line_total
--   returns_cents  sum of the return lines' line_total
--   cost_cents     cost of what was kept: round(quantity * unit_cost, 2) of the sold lines
--                  minus cost_total of the return lines
--   estimated      how many of those lines carry an estimated cost (see above)
-- A cancellation takes its sale's lines out of the row they went into (sales.balance_day).
-- Kept by statement-level triggers, in the writer's transaction. Locks: a statement takes its
-- rows in (tenant, day, product) order, and always after the balance_daily row of the same
-- day (confirm, cancel and return all write balance_daily first), so no lock order is added.
CREATE TABLE report_daily (
    tenant_id      bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day            date NOT NULL,
    product_id     bigint NOT NULL,
    qty_milli      bigint NOT NULL DEFAULT 0,
    sales_cents    bigint NOT NULL DEFAULT 0,
    returns_cents  bigint NOT NULL DEFAULT 0,
    cost_cents     bigint NOT NULL DEFAULT 0,
    estimated      bigint NOT NULL DEFAULT 0,
    CONSTRAINT report_daily_pkey PRIMARY KEY (tenant_id, day, product_id)
);

-- A change as signed deltas: the new rows, the old ones negated (q thousandths, s r c cents,
-- e estimated lines). Every trigger below hands its deltas (d, one per line touched) to
-- stock_report_daily_apply, which sums them per (tenant, day, product) and adds them to
-- report_daily in key order; the roll-ups take report_daily's own deltas the same way.
CREATE TYPE report_delta AS (tenant_id bigint, day date, product_id bigint, q bigint, s bigint,
                             r bigint, c bigint, e bigint);
CREATE FUNCTION stock_report_daily_apply(deltas report_delta[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO report_daily AS x (tenant_id, day, product_id, qty_milli, sales_cents,
                                    returns_cents, cost_cents, estimated)
    SELECT tenant_id, day, product_id, sum(q), sum(s), sum(r), sum(c), sum(e)
    FROM unnest(deltas) AS d
    -- a tenant being deleted takes its rows along (ON DELETE CASCADE): add nothing then
    WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = d.tenant_id)
    GROUP BY 1, 2, 3
    HAVING sum(q) <> 0 OR sum(s) <> 0 OR sum(r) <> 0 OR sum(c) <> 0 OR sum(e) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (tenant_id, day, product_id) DO UPDATE SET
        qty_milli = x.qty_milli + EXCLUDED.qty_milli,
        sales_cents = x.sales_cents + EXCLUDED.sales_cents,
        returns_cents = x.returns_cents + EXCLUDED.returns_cents,
        cost_cents = x.cost_cents + EXCLUDED.cost_cents,
        estimated = x.estimated + EXCLUDED.estimated;
$$;

-- A confirmed line without its cost is a bug of the writer: refuse it rather than count 0.
CREATE FUNCTION stock_report_no_cost() RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a confirmed sale line has no unit_cost'
        USING ERRCODE = 'not_null_violation', COLUMN = 'unit_cost';
END $$;

-- sales: a sale entering 'confirmed' adds its lines on its balance_day; one leaving it
-- (cancelled) takes them out of the day they went into. The lines are read as they are at
-- the end of the statement (no statement both confirms a sale and writes its lines).
CREATE FUNCTION stock_report_sales_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stock_report_daily_apply(ARRAY(
    WITH ch AS (
        SELECT n.tenant_id, n.id, n.balance_day AS day, 1 AS k
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.status = 'confirmed'
          AND (o.status <> 'confirmed' OR o.balance_day IS DISTINCT FROM n.balance_day)
        UNION ALL
        SELECT o.tenant_id, o.id, o.balance_day, -1
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.status = 'confirmed'
          AND (n.status <> 'confirmed' OR o.balance_day IS DISTINCT FROM n.balance_day)),
    d AS (
        SELECT ch.tenant_id, ch.day, l.product_id, ch.k * (l.quantity * 1000)::bigint AS q,
               ch.k * (l.line_total * 100)::bigint AS s, 0::bigint AS r,
               ch.k * (round(l.quantity * coalesce(l.unit_cost, stock_report_no_cost()), 2)
                       * 100)::bigint AS c,
               ch.k * l.cost_estimated::int AS e
        FROM ch JOIN sale_lines l ON l.tenant_id = ch.tenant_id AND l.sale_id = ch.id)
    SELECT ROW(tenant_id, day, product_id, q, s, r, c, e)::report_delta FROM d));
    RETURN NULL;
END $$;

-- sale_lines: a line added to, changed on or removed from a sale that is confirmed now (the
-- app only writes the lines of drafts; stockctl seed-demo inserts confirmed history).
CREATE FUNCTION stock_report_lines_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stock_report_daily_apply(ARRAY(
    WITH d AS (SELECT l.tenant_id, s.balance_day AS day, l.product_id, (l.quantity * 1000)::bigint AS q,
               (l.line_total * 100)::bigint AS s, 0::bigint AS r,
               (round(l.quantity * coalesce(l.unit_cost, stock_report_no_cost()), 2)
                   * 100)::bigint AS c,
               l.cost_estimated::int AS e
        FROM new_rows l JOIN sales s ON s.tenant_id = l.tenant_id AND s.id = l.sale_id
        WHERE s.status = 'confirmed'
)
    SELECT ROW(tenant_id, day, product_id, q, s, r, c, e)::report_delta FROM d));
    RETURN NULL;
END $$;

CREATE FUNCTION stock_report_lines_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stock_report_daily_apply(ARRAY(
    WITH d AS (SELECT l.tenant_id, s.balance_day AS day, l.product_id, (l.quantity * 1000)::bigint AS q,
               (l.line_total * 100)::bigint AS s, 0::bigint AS r,
               (round(l.quantity * coalesce(l.unit_cost, stock_report_no_cost()), 2)
                   * 100)::bigint AS c,
               l.cost_estimated::int AS e
        FROM new_rows l JOIN sales s ON s.tenant_id = l.tenant_id AND s.id = l.sale_id
        WHERE s.status = 'confirmed'
        UNION ALL
        SELECT l.tenant_id, s.balance_day AS day, l.product_id, -(l.quantity * 1000)::bigint AS q,
               -(l.line_total * 100)::bigint AS s, 0::bigint AS r,
               -(round(l.quantity * coalesce(l.unit_cost, stock_report_no_cost()), 2)
                   * 100)::bigint AS c,
               -l.cost_estimated::int AS e
        FROM old_rows l JOIN sales s ON s.tenant_id = l.tenant_id AND s.id = l.sale_id
        WHERE s.status = 'confirmed'
)
    SELECT ROW(tenant_id, day, product_id, q, s, r, c, e)::report_delta FROM d));
    RETURN NULL;
END $$;

CREATE FUNCTION stock_report_lines_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stock_report_daily_apply(ARRAY(
    WITH d AS (SELECT l.tenant_id, s.balance_day AS day, l.product_id, -(l.quantity * 1000)::bigint AS q,
               -(l.line_total * 100)::bigint AS s, 0::bigint AS r,
               -(round(l.quantity * coalesce(l.unit_cost, stock_report_no_cost()), 2)
                   * 100)::bigint AS c,
               -l.cost_estimated::int AS e
        FROM old_rows l JOIN sales s ON s.tenant_id = l.tenant_id AND s.id = l.sale_id
        WHERE s.status = 'confirmed'
)
    SELECT ROW(tenant_id, day, product_id, q, s, r, c, e)::report_delta FROM d));
    RETURN NULL;
END $$;

-- sale_return_lines: a return counts on its own day (sale_returns.balance_day), as in the
-- balance series: less quantity, its line_total in returns, its cost_total out of the cost.
CREATE FUNCTION stock_report_return_lines_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stock_report_daily_apply(ARRAY(
    WITH d AS (SELECT l.tenant_id, r.balance_day AS day, l.product_id, -(l.quantity * 1000)::bigint AS q,
               0::bigint AS s, (l.line_total * 100)::bigint AS r,
               -(l.cost_total * 100)::bigint AS c, l.cost_estimated::int AS e
        FROM new_rows l JOIN sale_returns r ON r.tenant_id = l.tenant_id AND r.id = l.return_id
)
    SELECT ROW(tenant_id, day, product_id, q, s, r, c, e)::report_delta FROM d));
    RETURN NULL;
END $$;

CREATE FUNCTION stock_report_return_lines_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stock_report_daily_apply(ARRAY(
    WITH d AS (SELECT l.tenant_id, r.balance_day AS day, l.product_id, -(l.quantity * 1000)::bigint AS q,
               0::bigint AS s, (l.line_total * 100)::bigint AS r,
               -(l.cost_total * 100)::bigint AS c, l.cost_estimated::int AS e
        FROM new_rows l JOIN sale_returns r ON r.tenant_id = l.tenant_id AND r.id = l.return_id
        UNION ALL
        SELECT l.tenant_id, r.balance_day AS day, l.product_id, (l.quantity * 1000)::bigint AS q,
               0::bigint AS s, -(l.line_total * 100)::bigint AS r,
               (l.cost_total * 100)::bigint AS c, -l.cost_estimated::int AS e
        FROM old_rows l JOIN sale_returns r ON r.tenant_id = l.tenant_id AND r.id = l.return_id
)
    SELECT ROW(tenant_id, day, product_id, q, s, r, c, e)::report_delta FROM d));
    RETURN NULL;
END $$;

CREATE FUNCTION stock_report_return_lines_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stock_report_daily_apply(ARRAY(
    WITH d AS (SELECT l.tenant_id, r.balance_day AS day, l.product_id, (l.quantity * 1000)::bigint AS q,
               0::bigint AS s, -(l.line_total * 100)::bigint AS r,
               (l.cost_total * 100)::bigint AS c, -l.cost_estimated::int AS e
        FROM old_rows l JOIN sale_returns r ON r.tenant_id = l.tenant_id AND r.id = l.return_id
)
    SELECT ROW(tenant_id, day, product_id, q, s, r, c, e)::report_delta FROM d));
    RETURN NULL;
END $$;

CREATE TRIGGER sales_report_upd AFTER UPDATE ON sales
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_report_sales_upd();
CREATE TRIGGER sale_lines_report_ins AFTER INSERT ON sale_lines REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_report_lines_ins();
CREATE TRIGGER sale_lines_report_upd AFTER UPDATE ON sale_lines
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_report_lines_upd();
CREATE TRIGGER sale_lines_report_del AFTER DELETE ON sale_lines REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_report_lines_del();
CREATE TRIGGER sale_return_lines_report_ins AFTER INSERT ON sale_return_lines
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_report_return_lines_ins();
CREATE TRIGGER sale_return_lines_report_upd AFTER UPDATE ON sale_return_lines
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_report_return_lines_upd();
CREATE TRIGGER sale_return_lines_report_del AFTER DELETE ON sale_return_lines
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_report_return_lines_del();

-- Two roll-ups of report_daily, kept from it by statement-level triggers in the same
-- transaction (after its rows, in key order): report_monthly (per tenant, month and product:
-- a report by product or category over a range reads the whole months from it and only the
-- days at the range's edges from report_daily) and report_days (per tenant and day, over the
-- products: the reports by day, week and month read one row per day). Only writers of
-- report_daily take their rows, and a writer of a day's report_daily rows holds that day's
-- balance_daily row first, so two writers never wait on each other's roll-up rows in turn.
CREATE TABLE report_monthly (
    tenant_id      bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    month          date NOT NULL, -- its first day
    product_id     bigint NOT NULL,
    qty_milli      bigint NOT NULL DEFAULT 0,
    sales_cents    bigint NOT NULL DEFAULT 0,
    returns_cents  bigint NOT NULL DEFAULT 0,
    cost_cents     bigint NOT NULL DEFAULT 0,
    estimated      bigint NOT NULL DEFAULT 0,
    CONSTRAINT report_monthly_pkey PRIMARY KEY (tenant_id, month, product_id),
    CONSTRAINT report_monthly_month_check CHECK (extract(day FROM month) = 1)
);
CREATE TABLE report_days (
    tenant_id      bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day            date NOT NULL,
    qty_milli      bigint NOT NULL DEFAULT 0,
    sales_cents    bigint NOT NULL DEFAULT 0,
    returns_cents  bigint NOT NULL DEFAULT 0,
    cost_cents     bigint NOT NULL DEFAULT 0,
    estimated      bigint NOT NULL DEFAULT 0,
    CONSTRAINT report_days_pkey PRIMARY KEY (tenant_id, day)
);

-- Adds deltas to both roll-ups, in key order (rows of a tenant being deleted left out).
CREATE FUNCTION stock_report_rollup_apply(deltas report_delta[]) RETURNS void
LANGUAGE sql AS $$
    WITH d AS (SELECT * FROM unnest(deltas) AS u WHERE EXISTS (SELECT 1 FROM tenants t
                                                          WHERE t.id = u.tenant_id)),
        m AS (INSERT INTO report_monthly AS x (tenant_id, month, product_id, qty_milli,
                                               sales_cents, returns_cents, cost_cents, estimated)
              SELECT tenant_id, date_trunc('month', day::timestamp)::date, product_id, sum(q),
                     sum(s), sum(r), sum(c), sum(e)
              FROM d
              GROUP BY 1, 2, 3
              HAVING sum(q) <> 0 OR sum(s) <> 0 OR sum(r) <> 0 OR sum(c) <> 0 OR sum(e) <> 0
              ORDER BY 1, 2, 3
              ON CONFLICT (tenant_id, month, product_id) DO UPDATE SET
                  qty_milli = x.qty_milli + EXCLUDED.qty_milli,
                  sales_cents = x.sales_cents + EXCLUDED.sales_cents,
                  returns_cents = x.returns_cents + EXCLUDED.returns_cents,
                  cost_cents = x.cost_cents + EXCLUDED.cost_cents,
                  estimated = x.estimated + EXCLUDED.estimated
              RETURNING 1)
    INSERT INTO report_days AS x (tenant_id, day, qty_milli, sales_cents, returns_cents,
                                  cost_cents, estimated)
    SELECT tenant_id, day, sum(q), sum(s), sum(r), sum(c), sum(e)
    FROM d
    GROUP BY 1, 2
    HAVING sum(q) <> 0 OR sum(s) <> 0 OR sum(r) <> 0 OR sum(c) <> 0 OR sum(e) <> 0
    ORDER BY 1, 2
    ON CONFLICT (tenant_id, day) DO UPDATE SET
        qty_milli = x.qty_milli + EXCLUDED.qty_milli,
        sales_cents = x.sales_cents + EXCLUDED.sales_cents,
        returns_cents = x.returns_cents + EXCLUDED.returns_cents,
        cost_cents = x.cost_cents + EXCLUDED.cost_cents,
        estimated = x.estimated + EXCLUDED.estimated;
$$;
CREATE FUNCTION stock_report_rollup_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stock_report_rollup_apply(ARRAY(
        SELECT ROW(tenant_id, day, product_id, qty_milli, sales_cents, returns_cents, cost_cents,
                   estimated)::report_delta FROM new_rows));
    RETURN NULL;
END $$;
CREATE FUNCTION stock_report_rollup_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stock_report_rollup_apply(ARRAY(
        SELECT ROW(tenant_id, day, product_id, qty_milli, sales_cents, returns_cents, cost_cents,
                   estimated)::report_delta FROM new_rows
        UNION ALL
        SELECT ROW(tenant_id, day, product_id, -qty_milli, -sales_cents, -returns_cents,
                   -cost_cents, -estimated)::report_delta FROM old_rows));
    RETURN NULL;
END $$;
CREATE FUNCTION stock_report_rollup_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stock_report_rollup_apply(ARRAY(
        SELECT ROW(tenant_id, day, product_id, -qty_milli, -sales_cents, -returns_cents,
                   -cost_cents, -estimated)::report_delta FROM old_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER report_daily_rollup_ins AFTER INSERT ON report_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_report_rollup_ins();
CREATE TRIGGER report_daily_rollup_upd AFTER UPDATE ON report_daily
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_report_rollup_upd();
CREATE TRIGGER report_daily_rollup_del AFTER DELETE ON report_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_report_rollup_del();

-- Rebuilds a tenant's summary from the raw rows (repair; the same figures as the triggers).
CREATE FUNCTION stock_report_rebuild(t bigint) RETURNS void LANGUAGE sql AS $$
    DELETE FROM report_daily WHERE tenant_id = t;
    INSERT INTO report_daily (tenant_id, day, product_id, qty_milli, sales_cents, returns_cents,
                              cost_cents, estimated)
    SELECT t, day, product_id, sum(q), sum(s), sum(r), sum(c), sum(e) FROM (
        SELECT x.balance_day AS day, l.product_id, (l.quantity * 1000)::bigint AS q,
               (l.line_total * 100)::bigint AS s, 0::bigint AS r,
               (round(l.quantity * coalesce(l.unit_cost, 0), 2) * 100)::bigint AS c,
               l.cost_estimated::int AS e
        FROM sales x JOIN sale_lines l ON l.tenant_id = x.tenant_id AND l.sale_id = x.id
        WHERE x.tenant_id = t AND x.status = 'confirmed'
        UNION ALL
        SELECT r.balance_day, l.product_id, -(l.quantity * 1000)::bigint, 0,
               (l.line_total * 100)::bigint, -(l.cost_total * 100)::bigint, l.cost_estimated::int
        FROM sale_returns r JOIN sale_return_lines l ON l.tenant_id = r.tenant_id
            AND l.return_id = r.id
        WHERE r.tenant_id = t
    ) x GROUP BY day, product_id;
$$;

SELECT stock_report_rebuild(id) FROM tenants;

-- Cache invalidations (sql/008): the reports module goes wherever the balance module goes
-- (sales, their lines, payments, returns and their lines, the balance summaries, a tenant's
-- change of time zone), plus report_daily itself. Separate triggers, so that the existing ones
-- stay as they are.
DO $$
DECLARE
    t record;
    ev text;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('sales', 'tenant_id', 'INSERT UPDATE DELETE'),
        ('sale_lines', 'tenant_id', 'INSERT UPDATE DELETE'),
        ('payments', 'tenant_id', 'INSERT UPDATE DELETE'),
        ('balance_daily', 'tenant_id', 'INSERT UPDATE DELETE'),
        ('balance_monthly', 'tenant_id', 'INSERT UPDATE DELETE'),
        ('sale_returns', 'tenant_id', 'INSERT UPDATE DELETE'),
        ('sale_return_lines', 'tenant_id', 'INSERT UPDATE DELETE'),
        ('report_daily', 'tenant_id', 'INSERT UPDATE DELETE'),
        ('tenants', 'id', 'UPDATE DELETE')
    ) AS v (tbl, col, events)
    LOOP
        FOREACH ev IN ARRAY string_to_array(t.events, ' ') LOOP
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s TABLE AS %s '
                           'FOR EACH STATEMENT EXECUTE FUNCTION cache_outbox_note(%L, %L)',
                           t.tbl || '_cache_outbox_reports_' || lower(ev), ev, t.tbl,
                           CASE ev WHEN 'DELETE' THEN 'OLD' ELSE 'NEW' END,
                           CASE ev WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END,
                           t.col, 'reports');
        END LOOP;
    END LOOP;
END $$;

-- The rows show their product's SKU, name and category, and the category's name: a change of
-- those (only those: not the stock updates of every sale and movement, which would double the
-- outbox rows of a busy product) invalidates the reports too. A product or category that is in
-- a report cannot be deleted (sale_lines, products reference them).
CREATE FUNCTION stock_report_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cache_outbox (tenant_id, module) VALUES (NEW.tenant_id, 'reports');
    RETURN NULL;
END $$;
CREATE TRIGGER products_cache_outbox_reports_rename AFTER UPDATE OF sku, name, category_id
    ON products FOR EACH ROW
    WHEN (OLD.sku IS DISTINCT FROM NEW.sku OR OLD.name IS DISTINCT FROM NEW.name
          OR OLD.category_id IS DISTINCT FROM NEW.category_id)
    EXECUTE FUNCTION stock_report_note();
CREATE TRIGGER categories_cache_outbox_reports_rename AFTER UPDATE OF name ON categories
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION stock_report_note();
