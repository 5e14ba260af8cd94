-- 015_tenant_locale.sql: the tenant's language and currency (SPEC §12). The web UI speaks the
-- tenant's locale ('en' or 'es') and shows money in its currency (an ISO 4217 alphabetic code).
-- Existing tenants keep what the UI did before: English and US dollars. The database checks
-- the shape of a code; that it is an active ISO 4217 code is checked by services/tenant.c (the
-- one table of codes, shared by the API and stockctl), since the list changes over the years
-- and a withdrawn code must stay readable in old rows.
-- An UPDATE of tenants already invalidates the tenant's sessions (sql/008), which carry these
-- fields, so every host sees a change on its next request.
ALTER TABLE tenants
    ADD COLUMN locale text NOT NULL DEFAULT 'en',
    ADD COLUMN currency text NOT NULL DEFAULT 'USD',
    ADD CONSTRAINT tenants_locale_check CHECK (locale IN ('en', 'es')),
    ADD CONSTRAINT tenants_currency_check CHECK (currency ~ '^[A-Z]{3}$');
