-- 007_login_limits.sql: failed sign-ins counted where every host sees them and no Redis outage
-- or eviction can empty them (SPEC §9). One row per bucket and fixed window: per account
-- (kind 'account': the tenant and the lower-case email) and per client (kind 'client': the
-- tenant and the address, IPv6 cut to its /64). subject is a 16-byte BLAKE2b of the bucket's
-- text, so that neither emails nor addresses are kept in clear. tenant_id is the resolved
-- tenant, or 0 for a slug that names none (one bucket for every unknown spelling).
CREATE TABLE login_limits (
    tenant_id bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('account', 'client')),
    subject bytea NOT NULL CHECK (length(subject) = 16),
    window_start timestamptz NOT NULL DEFAULT now(),
    failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    PRIMARY KEY (tenant_id, kind, subject)
);
