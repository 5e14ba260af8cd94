-- 010_outbox_writer.sql: a writer finds its own outbox rows by its connection's application_name
-- (core/db.c db_writer, unique per connection and kept by PgBouncer across the server
-- connections it lends), not by pg_backend_pid(), which in PgBouncer's transaction pooling
-- names a different server connection from one transaction to the next.
ALTER TABLE cache_outbox
    ADD COLUMN writer text NOT NULL DEFAULT current_setting('application_name');
CREATE INDEX cache_outbox_writer_idx ON cache_outbox (writer);
