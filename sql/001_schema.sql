-- 001_schema.sql: the whole domain of SPEC §5 (PostgreSQL 15). stockctl migrate runs this file
-- in one transaction, so it holds no BEGIN/COMMIT.
--
-- Multi-tenancy is enforced by the schema itself: every tenant-owned table carries
-- tenant_id NOT NULL and UNIQUE (tenant_id, id), and every reference between tenant rows is a
-- composite foreign key (tenant_id, x_id) -> x (tenant_id, id), so a row can never point at
-- another tenant's row. References between tenant rows use NO ACTION (checked at the end of
-- the statement): deleting a row that is still referenced fails with 23503, which db.c maps
-- to 409 in_use, while deleting a whole tenant still cascades cleanly.
--
-- Constraint and unique-index names follow "<table>_<column>_<key|fkey|check>" because db.c
-- derives the offending field of a 409/422 from them (products_sku_key -> "sku").

-- Keeps updated_at honest whatever the UPDATE statement says.
CREATE FUNCTION stock_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- Tenants. timezone is an IANA name validated by stockctl against pg_timezone_names (a CHECK
-- cannot query a catalog view); the balance series computes days in it.
CREATE TABLE tenants (
    id          bigserial PRIMARY KEY,
    slug        text NOT NULL,
    name        text NOT NULL,
    timezone    text NOT NULL DEFAULT 'UTC',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_slug_check CHECK (slug ~ '^[a-z0-9-]{1,63}$'),
    CONSTRAINT tenants_name_check CHECK (btrim(name) <> '' AND length(name) <= 200),
    CONSTRAINT tenants_timezone_check CHECK (timezone <> '' AND length(timezone) <= 64)
);

-- Users log in with (tenant slug, email, password). Emails are stored lower-cased and are
-- unique per tenant whatever their case.
CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    tenant_id      bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email          text NOT NULL,
    password_hash  text NOT NULL,
    role           text NOT NULL DEFAULT 'staff',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT users_role_check CHECK (role IN ('admin', 'staff')),
    CONSTRAINT users_email_check CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254
                                        AND position('@' IN email) > 1),
    CONSTRAINT users_password_hash_check CHECK (password_hash <> '')
);
CREATE UNIQUE INDEX users_email_key ON users (tenant_id, lower(email));

-- Sessions: only hashes of the bearer token and of the CSRF token are stored.
CREATE TABLE sessions (
    id               bigserial PRIMARY KEY,
    tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id          bigint NOT NULL,
    token_hash       bytea NOT NULL,
    csrf_token_hash  bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    CONSTRAINT sessions_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT sessions_expires_at_check CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Units of measure (the API's /uom).
CREATE TABLE units (
    id            bigserial PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          text NOT NULL,
    abbreviation  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT units_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT units_name_check CHECK (btrim(name) <> '' AND length(name) <= 100),
    CONSTRAINT units_abbreviation_check CHECK (btrim(abbreviation) <> ''
                                               AND length(abbreviation) <= 20)
);
CREATE UNIQUE INDEX units_name_key ON units (tenant_id, lower(name));

CREATE TABLE categories (
    id           bigserial PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         text NOT NULL,
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT categories_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT categories_name_check CHECK (btrim(name) <> '' AND length(name) <= 200),
    CONSTRAINT categories_description_check CHECK (length(description) <= 2000)
);
CREATE UNIQUE INDEX categories_name_key ON categories (tenant_id, lower(name));

-- Products. stock can never go below zero, whatever concurrent confirmations do.
CREATE TABLE products (
    id           bigserial PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sku          text NOT NULL,
    name         text NOT NULL,
    category_id  bigint,
    uom_id       bigint NOT NULL,
    price        numeric(14, 2) NOT NULL DEFAULT 0,
    cost         numeric(14, 2) NOT NULL DEFAULT 0,
    stock        numeric(15, 3) NOT NULL DEFAULT 0,
    min_stock    numeric(15, 3) NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT products_category_id_fkey FOREIGN KEY (tenant_id, category_id)
        REFERENCES categories (tenant_id, id) ON DELETE NO ACTION,
    CONSTRAINT products_uom_id_fkey FOREIGN KEY (tenant_id, uom_id)
        REFERENCES units (tenant_id, id) ON DELETE NO ACTION,
    CONSTRAINT products_sku_check CHECK (btrim(sku) <> '' AND length(sku) <= 64),
    CONSTRAINT products_name_check CHECK (btrim(name) <> '' AND length(name) <= 200),
    CONSTRAINT products_price_check CHECK (price >= 0),
    CONSTRAINT products_cost_check CHECK (cost >= 0),
    CONSTRAINT products_stock_check CHECK (stock >= 0),
    CONSTRAINT products_min_stock_check CHECK (min_stock >= 0)
);
CREATE UNIQUE INDEX products_sku_key ON products (tenant_id, lower(sku));
CREATE INDEX products_name_idx ON products (tenant_id, lower(name));
CREATE INDEX products_category_idx ON products (tenant_id, category_id);
CREATE INDEX products_uom_idx ON products (tenant_id, uom_id);

-- Sales. A sale counts in the balance at confirmed_at; a cancelled sale keeps its
-- confirmed_at (if it had one) so the history stays readable.
CREATE TABLE sales (
    id            bigserial PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    customer      text,
    status        text NOT NULL DEFAULT 'draft',
    total         numeric(14, 2) NOT NULL DEFAULT 0,
    confirmed_at  timestamptz,
    cancelled_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sales_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT sales_status_check CHECK (status IN ('draft', 'confirmed', 'cancelled')),
    CONSTRAINT sales_customer_check CHECK (length(customer) <= 200),
    CONSTRAINT sales_total_check CHECK (total >= 0),
    CONSTRAINT sales_confirmed_at_check CHECK (
        (status = 'draft' AND confirmed_at IS NULL)
        OR (status = 'confirmed' AND confirmed_at IS NOT NULL)
        OR status = 'cancelled'),
    CONSTRAINT sales_cancelled_at_check CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX sales_status_idx ON sales (tenant_id, status, confirmed_at);
CREATE INDEX sales_created_at_idx ON sales (tenant_id, created_at);

CREATE TABLE sale_lines (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sale_id     bigint NOT NULL,
    product_id  bigint NOT NULL,
    quantity    numeric(15, 3) NOT NULL,
    unit_price  numeric(14, 2) NOT NULL,
    line_total  numeric(14, 2) NOT NULL,
    CONSTRAINT sale_lines_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT sale_lines_sale_id_fkey FOREIGN KEY (tenant_id, sale_id)
        REFERENCES sales (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT sale_lines_product_id_fkey FOREIGN KEY (tenant_id, product_id)
        REFERENCES products (tenant_id, id) ON DELETE NO ACTION,
    CONSTRAINT sale_lines_quantity_check CHECK (quantity > 0),
    CONSTRAINT sale_lines_unit_price_check CHECK (unit_price >= 0),
    CONSTRAINT sale_lines_line_total_check CHECK (line_total >= 0)
);
CREATE INDEX sale_lines_sale_idx ON sale_lines (tenant_id, sale_id);
CREATE INDEX sale_lines_product_idx ON sale_lines (tenant_id, product_id);

CREATE TABLE payments (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sale_id     bigint NOT NULL,
    amount      numeric(14, 2) NOT NULL,
    method      text NOT NULL,
    paid_at     timestamptz NOT NULL DEFAULT now(),
    reference   text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT payments_sale_id_fkey FOREIGN KEY (tenant_id, sale_id)
        REFERENCES sales (tenant_id, id) ON DELETE NO ACTION,
    CONSTRAINT payments_amount_check CHECK (amount > 0),
    CONSTRAINT payments_method_check CHECK (method IN ('cash', 'card', 'transfer')),
    CONSTRAINT payments_reference_check CHECK (length(reference) <= 200)
);
CREATE INDEX payments_paid_at_idx ON payments (tenant_id, paid_at);
CREATE INDEX payments_sale_idx ON payments (tenant_id, sale_id);

-- The stock ledger: one row per change of products.stock (quantity is the signed delta).
-- A product's ledger goes with the product; a product that was ever sold cannot be deleted
-- anyway (sale_lines references it).
CREATE TABLE stock_movements (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    product_id  bigint NOT NULL,
    sale_id     bigint,
    quantity    numeric(15, 3) NOT NULL,
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stock_movements_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT stock_movements_product_id_fkey FOREIGN KEY (tenant_id, product_id)
        REFERENCES products (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT stock_movements_sale_id_fkey FOREIGN KEY (tenant_id, sale_id)
        REFERENCES sales (tenant_id, id) ON DELETE NO ACTION,
    CONSTRAINT stock_movements_reason_check CHECK (
        reason IN ('sale_confirm', 'sale_cancel', 'adjustment', 'initial')),
    CONSTRAINT stock_movements_sale_id_check CHECK (
        reason NOT IN ('sale_confirm', 'sale_cancel') OR sale_id IS NOT NULL)
);
CREATE INDEX stock_movements_product_idx ON stock_movements (tenant_id, product_id, created_at);
CREATE INDEX stock_movements_sale_idx ON stock_movements (tenant_id, sale_id);

-- Idempotency-Key of POST /payments, per tenant. response_* stay NULL while the first
-- request is still running.
CREATE TABLE idempotency_keys (
    tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key              text NOT NULL,
    request_hash     bytea NOT NULL,
    response_status  integer,
    response_body    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, key),
    CONSTRAINT idempotency_keys_key_check CHECK (length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_response_status_check CHECK (
        response_status BETWEEN 100 AND 599)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- Cache invalidations that could not reach Redis (see fcgi/core/cache.c). Deliberately no
-- foreign key: recording an invalidation must never fail.
CREATE TABLE cache_backlog (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL,
    module      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER tenants_touch BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION stock_touch_updated_at();
CREATE TRIGGER users_touch BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION stock_touch_updated_at();
CREATE TRIGGER units_touch BEFORE UPDATE ON units
    FOR EACH ROW EXECUTE FUNCTION stock_touch_updated_at();
CREATE TRIGGER categories_touch BEFORE UPDATE ON categories
    FOR EACH ROW EXECUTE FUNCTION stock_touch_updated_at();
CREATE TRIGGER products_touch BEFORE UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION stock_touch_updated_at();
CREATE TRIGGER sales_touch BEFORE UPDATE ON sales
    FOR EACH ROW EXECUTE FUNCTION stock_touch_updated_at();
