-- 009_shop.sql: a stock a shop can trust (SPEC §10). The ledger of stock movements with kind,
-- stock before and after, cost, note, reference and user; returns and refunds of confirmed
-- sales; users that can be disabled.
--
-- Invariant (checked by the tests after every concurrent run): for every product,
-- products.stock = sum(stock_movements.quantity), and every movement's
-- stock_after = stock_before + quantity. stock_move() below is the only writer of both.

-- The ledger ---------------------------------------------------------------------------------
ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_reason_check;
ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_sale_id_check;
ALTER TABLE stock_movements RENAME COLUMN reason TO kind;
UPDATE stock_movements SET kind = CASE kind WHEN 'sale_confirm' THEN 'sale'
                                            WHEN 'sale_cancel' THEN 'cancel'
                                            WHEN 'initial' THEN 'opening' ELSE kind END;
ALTER TABLE stock_movements
    ADD COLUMN stock_before numeric(15, 3),
    ADD COLUMN stock_after  numeric(15, 3),
    ADD COLUMN unit_cost    numeric(14, 2),
    ADD COLUMN note         text,
    ADD COLUMN reference    text,
    ADD COLUMN user_id      bigint,
    ADD COLUMN return_id    bigint;

-- Rows written before this migration: a product whose ledger does not add up to its stock
-- gets one adjustment that makes it (so the invariant holds from here on), then every row's
-- stock after is the running sum in id order.
INSERT INTO stock_movements (tenant_id, product_id, quantity, kind, note)
SELECT p.tenant_id, p.id, p.stock - coalesce(m.sum, 0), 'adjustment',
       'migration 009: the ledger did not add up to the stock'
FROM products p
LEFT JOIN (SELECT tenant_id, product_id, sum(quantity) AS sum FROM stock_movements
           GROUP BY tenant_id, product_id) m ON m.tenant_id = p.tenant_id AND m.product_id = p.id
WHERE p.stock <> coalesce(m.sum, 0);
UPDATE stock_movements m SET stock_after = r.after, stock_before = r.after - m.quantity
FROM (SELECT id, sum(quantity) OVER (PARTITION BY tenant_id, product_id ORDER BY id) AS after
      FROM stock_movements) r
WHERE r.id = m.id;
ALTER TABLE stock_movements ALTER COLUMN stock_before SET NOT NULL;
ALTER TABLE stock_movements ALTER COLUMN stock_after SET NOT NULL;

ALTER TABLE stock_movements
    ADD CONSTRAINT stock_movements_kind_check CHECK (kind IN (
        'receipt', 'loss', 'damage', 'adjustment', 'count', 'sale', 'cancel', 'return',
        'opening')),
    ADD CONSTRAINT stock_movements_sale_id_check CHECK (
        kind NOT IN ('sale', 'cancel', 'return') OR sale_id IS NOT NULL),
    ADD CONSTRAINT stock_movements_return_id_check CHECK ((kind = 'return') = (return_id IS NOT NULL)),
    ADD CONSTRAINT stock_movements_quantity_check CHECK (quantity <> 0 OR kind = 'count'),
    ADD CONSTRAINT stock_movements_after_check CHECK (stock_after = stock_before + quantity),
    ADD CONSTRAINT stock_movements_stock_after_check CHECK (stock_after >= 0) NOT VALID,
    ADD CONSTRAINT stock_movements_unit_cost_check CHECK (unit_cost >= 0),
    ADD CONSTRAINT stock_movements_note_check CHECK (length(note) <= 500),
    ADD CONSTRAINT stock_movements_reference_check CHECK (length(reference) <= 200),
    ADD CONSTRAINT stock_movements_user_id_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id);

-- The list is newest first, filtered by product and/or kind: one index for each shape (the
-- unfiltered list walks stock_movements_tenant_id_id_key backwards).
DROP INDEX stock_movements_product_idx;
CREATE INDEX stock_movements_product_idx ON stock_movements (tenant_id, product_id, id DESC);
CREATE INDEX stock_movements_kind_idx ON stock_movements (tenant_id, kind, id DESC);
CREATE INDEX stock_movements_created_idx ON stock_movements (tenant_id, created_at);
CREATE INDEX stock_movements_return_idx ON stock_movements (tenant_id, return_id)
    WHERE return_id IS NOT NULL;

-- The lists' totals without a count over the ledger: how many movements each product has of
-- each kind, kept by a statement-level trigger. The row of (tenant, product, kind) is only
-- ever written by a transaction that holds the product's row lock (every writer of the ledger
-- locks or creates the product first), so it adds no lock order of its own. The ledger is
-- append-only; a product's counts go with it (ON DELETE CASCADE, as its movements do).
CREATE TABLE stock_movement_counts (
    tenant_id   bigint NOT NULL,
    product_id  bigint NOT NULL,
    kind        text NOT NULL,
    n           bigint NOT NULL,
    CONSTRAINT stock_movement_counts_pkey PRIMARY KEY (tenant_id, product_id, kind),
    CONSTRAINT stock_movement_counts_product_id_fkey FOREIGN KEY (tenant_id, product_id)
        REFERENCES products (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX stock_movement_counts_kind_idx ON stock_movement_counts (tenant_id, kind);
INSERT INTO stock_movement_counts (tenant_id, product_id, kind, n)
SELECT tenant_id, product_id, kind, count(*) FROM stock_movements GROUP BY 1, 2, 3;

CREATE FUNCTION stock_movement_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stock_movement_counts (tenant_id, product_id, kind, n)
    SELECT tenant_id, product_id, kind, count(*) FROM new_rows GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (tenant_id, product_id, kind)
    DO UPDATE SET n = stock_movement_counts.n + EXCLUDED.n;
    RETURN NULL;
END $$;
CREATE TRIGGER stock_movements_counts AFTER INSERT ON stock_movements
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_movement_counts_add();

-- One movement of product p of tenant t: locks the product row, applies the signed quantity q
-- (for kind 'count', q is the counted stock and the difference is what is applied), writes the
-- ledger row with the stock before and after, and returns it. Raises SQLSTATE 23514 with
-- CONSTRAINT products_stock_check when the stock would go below zero, and P0002 when the
-- product does not exist. Callers that move several products lock them in id order first
-- (the order of sales_confirm), so two such transactions never deadlock.
CREATE FUNCTION stock_move(t bigint, p bigint, k text, q numeric, s bigint, u bigint,
                           cost numeric, nt text, ref text, r bigint)
RETURNS stock_movements LANGUAGE plpgsql AS $$
DECLARE
    before numeric(15, 3);
    delta numeric(15, 3);
    row stock_movements;
BEGIN
    SELECT stock INTO before FROM products WHERE tenant_id = t AND id = p FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such product' USING ERRCODE = 'P0002';
    END IF;
    delta := CASE WHEN k = 'count' THEN q - before ELSE q END;
    IF before + delta < 0 THEN
        RAISE EXCEPTION 'not enough stock of product %', p
            USING ERRCODE = '23514', CONSTRAINT = 'products_stock_check';
    END IF;
    UPDATE products SET stock = before + delta WHERE tenant_id = t AND id = p;
    INSERT INTO stock_movements (tenant_id, product_id, sale_id, quantity, kind, stock_before,
                                 stock_after, unit_cost, note, reference, user_id, return_id)
    VALUES (t, p, s, delta, k, before, before + delta, cost, nt, ref, u, r)
    RETURNING * INTO row;
    RETURN row;
END $$;

-- Users --------------------------------------------------------------------------------------
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
CREATE INDEX users_tenant_idx ON users (tenant_id, id);

-- Returns and refunds ------------------------------------------------------------------------
CREATE TABLE sale_returns (
    id              bigserial PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sale_id         bigint NOT NULL,
    returned_total  numeric(14, 2) NOT NULL,
    refund_id       bigint,
    note            text,
    user_id         bigint,
    balance_day     date NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sale_returns_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT sale_returns_sale_id_fkey FOREIGN KEY (tenant_id, sale_id)
        REFERENCES sales (tenant_id, id) ON DELETE NO ACTION,
    CONSTRAINT sale_returns_user_id_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id),
    CONSTRAINT sale_returns_returned_total_check CHECK (returned_total >= 0),
    CONSTRAINT sale_returns_note_check CHECK (length(note) <= 500)
);
CREATE INDEX sale_returns_sale_idx ON sale_returns (tenant_id, sale_id);

CREATE TABLE sale_return_lines (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    return_id   bigint NOT NULL,
    sale_id     bigint NOT NULL,
    product_id  bigint NOT NULL,
    quantity    numeric(15, 3) NOT NULL,
    unit_price  numeric(14, 2) NOT NULL,
    line_total  numeric(14, 2) NOT NULL,
    CONSTRAINT sale_return_lines_return_id_fkey FOREIGN KEY (tenant_id, return_id)
        REFERENCES sale_returns (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT sale_return_lines_product_id_fkey FOREIGN KEY (tenant_id, product_id)
        REFERENCES products (tenant_id, id) ON DELETE NO ACTION,
    CONSTRAINT sale_return_lines_quantity_check CHECK (quantity > 0),
    CONSTRAINT sale_return_lines_unit_price_check CHECK (unit_price >= 0),
    CONSTRAINT sale_return_lines_line_total_check CHECK (line_total >= 0)
);
CREATE INDEX sale_return_lines_sale_idx ON sale_return_lines (tenant_id, sale_id, product_id);

ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_return_id_fkey
    FOREIGN KEY (tenant_id, return_id) REFERENCES sale_returns (tenant_id, id) ON DELETE NO ACTION;

-- A refund is a payments row of kind 'refund' with a negative amount: what is paid is the sum
-- of both, and the balance sees a refund on its day as a lower payments total.
ALTER TABLE payments ADD COLUMN kind text NOT NULL DEFAULT 'payment';
ALTER TABLE payments DROP CONSTRAINT payments_amount_check;
ALTER TABLE payments ADD CONSTRAINT payments_kind_check CHECK (kind IN ('payment', 'refund'));
ALTER TABLE payments ADD CONSTRAINT payments_amount_check CHECK (
    (kind = 'payment' AND amount > 0) OR (kind = 'refund' AND amount < 0));
ALTER TABLE sale_returns ADD CONSTRAINT sale_returns_refund_id_fkey
    FOREIGN KEY (tenant_id, refund_id) REFERENCES payments (tenant_id, id) ON DELETE NO ACTION;

-- The balance: returns count on their day; what is owed is sales - returns - payments.
ALTER TABLE balance_daily ADD COLUMN returns_cents bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION stock_balance_monthly_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM stock_balance_monthly_add(OLD.tenant_id, OLD.day,
            -(OLD.sales_cents - OLD.returns_cents - OLD.cash_cents - OLD.card_cents
              - OLD.transfer_cents));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM stock_balance_monthly_add(NEW.tenant_id, NEW.day,
            NEW.sales_cents - NEW.returns_cents - NEW.cash_cents - NEW.card_cents
            - NEW.transfer_cents);
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION stock_balance_rebuild(t bigint) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM balance_daily WHERE tenant_id = t;
    INSERT INTO balance_daily (tenant_id, day, sales_count, sales_cents, cash_cents, card_cents,
                               transfer_cents, cash_count, card_count, transfer_count,
                               returns_cents)
    SELECT t, day, sum(n), (sum(total) * 100)::bigint, (sum(cash) * 100)::bigint,
           (sum(card) * 100)::bigint, (sum(transfer) * 100)::bigint, sum(ncash), sum(ncard),
           sum(ntransfer), (sum(returned) * 100)::bigint
    FROM (
        SELECT balance_day AS day, count(*) AS n, sum(total) AS total, 0 AS cash, 0 AS card,
               0 AS transfer, 0 AS ncash, 0 AS ncard, 0 AS ntransfer, 0 AS returned
        FROM sales WHERE tenant_id = t AND status = 'confirmed' GROUP BY balance_day
        UNION ALL
        SELECT balance_day, 0, 0,
               coalesce(sum(amount) FILTER (WHERE method = 'cash'), 0),
               coalesce(sum(amount) FILTER (WHERE method = 'card'), 0),
               coalesce(sum(amount) FILTER (WHERE method = 'transfer'), 0),
               count(*) FILTER (WHERE method = 'cash'),
               count(*) FILTER (WHERE method = 'card'),
               count(*) FILTER (WHERE method = 'transfer'), 0
        FROM payments WHERE tenant_id = t GROUP BY balance_day
        UNION ALL
        SELECT balance_day, 0, 0, 0, 0, 0, 0, 0, 0, sum(returned_total)
        FROM sale_returns WHERE tenant_id = t GROUP BY balance_day
    ) x
    GROUP BY day;
$$;

-- Cache invalidations (sql/008): a product's movements list and the users list are cached.
DROP TRIGGER stock_movements_cache_outbox_insert ON stock_movements;
DROP TRIGGER stock_movements_cache_outbox_update ON stock_movements;
DROP TRIGGER stock_movements_cache_outbox_delete ON stock_movements;
DROP TRIGGER users_cache_outbox_update ON users;
DROP TRIGGER users_cache_outbox_delete ON users;
DO $$
DECLARE
    t record;
    ev text;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('stock_movements', '''products'', ''movements''', 'INSERT UPDATE DELETE'),
        ('users', '''sessions'', ''users''', 'INSERT UPDATE DELETE'),
        ('sale_returns', '''balance'', ''products''', 'INSERT UPDATE DELETE'),
        ('sale_return_lines', '''balance'', ''products''', 'INSERT UPDATE DELETE')
    ) AS v (tbl, mods, events)
    LOOP
        FOREACH ev IN ARRAY string_to_array(t.events, ' ') LOOP
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s TABLE AS %s '
                           'FOR EACH STATEMENT EXECUTE FUNCTION cache_outbox_note(%L, %s)',
                           t.tbl || '_cache_outbox_' || lower(ev), ev, t.tbl,
                           CASE ev WHEN 'DELETE' THEN 'OLD' ELSE 'NEW' END,
                           CASE ev WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END,
                           'tenant_id', t.mods);
        END LOOP;
    END LOOP;
END $$;
