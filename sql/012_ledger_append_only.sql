-- 012_ledger_append_only.sql: the stock ledger is append-only (SPEC §10). stock_move() is the
-- only writer and only inserts; an UPDATE or DELETE of a movement made by a statement is refused
-- whoever runs it. A movement still goes with its product or its tenant: the deletes that
-- ON DELETE CASCADE makes run inside the foreign key's trigger, so at trigger depth 2 or more,
-- where this trigger lets them through (a cascade can only remove a product's whole history, never
-- rewrite a row of a product that stays).
CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 AND TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'stock_movements is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'record a correcting movement (an adjustment or a count) instead';
END
$$;

CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only();
-- TRUNCATE bypasses row triggers: refuse it too.
CREATE TRIGGER stock_movements_no_truncate BEFORE TRUNCATE ON stock_movements
    FOR EACH STATEMENT EXECUTE FUNCTION stock_movements_append_only();
