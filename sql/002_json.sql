-- 002_json.sql: helpers that let read paths render their JSON in one statement.
--
-- stock_ts: a timestamptz as ISO 8601 with an explicit offset, whatever the session TimeZone
-- ("2026-01-05T10:00:00.123456+00:00"). IMMUTABLE holds because the zone is fixed to UTC.
CREATE FUNCTION stock_ts(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
$$;

-- stock_like_pattern: a user's search text as a LIKE pattern matching it anywhere, with the
-- LIKE metacharacters of the text escaped (so "50%" finds "50%", not everything).
CREATE FUNCTION stock_like_pattern(q text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT '%' || replace(replace(replace(lower(q), '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;
