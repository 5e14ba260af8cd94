-- 008_cache_outbox.sql: every write's cache invalidations commit with the write (SPEC §9).
-- Triggers on the cached tables add one row per (tenant, module) a statement changed, in the
-- statement's own transaction: a write commits if and only if its invalidations do, whoever
-- made it (the app, stockctl, psql). The protocol that applies and deletes the rows, with its
-- invariants and bounds, is at the top of fcgi/core/cache_outbox.c.
CREATE TABLE cache_outbox (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL,
    module      text NOT NULL,
    -- the backend that wrote the row: the writer finds its own rows by it after COMMIT
    backend_pid integer NOT NULL DEFAULT pg_backend_pid(),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cache_outbox_backend_idx ON cache_outbox (backend_pid);
CREATE INDEX cache_outbox_tenant_idx ON cache_outbox (tenant_id);

-- The hosts that may be serving cached reads, and until when (this database's clock): a host
-- writes its row before each poll of the outbox, so a writer whose own invalidation failed
-- waits only for the hosts listed here as trusting, not for the whole trust window when none is.
CREATE TABLE cache_hosts (
    host          text PRIMARY KEY CHECK (host ~ '^[0-9a-f]{32}$'),
    name          text NOT NULL,
    trusted_until timestamptz NOT NULL,
    -- when the poll that wrote the listing started, in ms of the host's own monotonic clock
    -- (compared only with that host's clock: a writer of the host withdraws older listings)
    poll_started  bigint NOT NULL DEFAULT 0
);

-- What was owed in the old per-pool backlog is owed in the outbox.
INSERT INTO cache_outbox (tenant_id, module, backend_pid)
    SELECT DISTINCT tenant_id, module, 0 FROM cache_backlog;
DROP TABLE cache_backlog;

-- Statement-level: one row per tenant and module whatever the number of rows changed (a seed
-- of a million sales adds one). Arguments: the column that holds the tenant (tenant_id, or id
-- for tenants), then the modules.
CREATE FUNCTION cache_outbox_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('INSERT INTO cache_outbox (tenant_id, module) '
                   'SELECT DISTINCT r.%I, m FROM %I r, unnest($1) m',
                   TG_ARGV[0], CASE TG_OP WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END)
        USING TG_ARGV[1:TG_NARGS - 1];
    RETURN NULL;
END $$;

-- A trigger with transition tables takes one event, hence three per table.
DO $$
DECLARE
    t record;
    ev text;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('units', 'tenant_id', '''uom'', ''products''', 'INSERT UPDATE DELETE'),
        ('categories', 'tenant_id', '''categories'', ''products''', 'INSERT UPDATE DELETE'),
        ('products', 'tenant_id', '''products'', ''categories''', 'INSERT UPDATE DELETE'),
        ('sales', 'tenant_id', '''balance'', ''products''', 'INSERT UPDATE DELETE'),
        ('sale_lines', 'tenant_id', '''balance'', ''products''', 'INSERT UPDATE DELETE'),
        ('payments', 'tenant_id', '''balance''', 'INSERT UPDATE DELETE'),
        ('stock_movements', 'tenant_id', '''products''', 'INSERT UPDATE DELETE'),
        ('balance_daily', 'tenant_id', '''balance''', 'INSERT UPDATE DELETE'),
        ('balance_monthly', 'tenant_id', '''balance''', 'INSERT UPDATE DELETE'),
        -- a new session is never cached before it exists: only its end is an invalidation
        ('sessions', 'tenant_id', '''sessions''', 'UPDATE DELETE'),
        ('users', 'tenant_id', '''sessions''', 'UPDATE DELETE'),
        ('tenants', 'id', '''sessions'', ''balance''', 'UPDATE DELETE')
    ) AS v (tbl, col, mods, events)
    LOOP
        FOREACH ev IN ARRAY string_to_array(t.events, ' ') LOOP
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s TABLE AS %s '
                           'FOR EACH STATEMENT EXECUTE FUNCTION cache_outbox_note(%L, %s)',
                           t.tbl || '_cache_outbox_' || lower(ev), ev, t.tbl,
                           CASE ev WHEN 'DELETE' THEN 'OLD' ELSE 'NEW' END,
                           CASE ev WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END,
                           t.col, t.mods);
        END LOOP;
    END LOOP;
END $$;
