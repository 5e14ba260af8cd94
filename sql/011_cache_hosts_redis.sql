-- 011_cache_hosts_redis.sql: which Redis each host's trust is based on (SPEC §11, Sentinel).
-- A poll records the run_id of the Redis master it applied the outbox on. After a failover two
-- masters may briefly both take writes (an old master cut off with some hosts, until
-- min-replicas-to-write makes it refuse): an invalidation applied on one is not seen on the
-- other, so outbox rows are kept while a host is listed as trusting a cache on another Redis
-- (its polls apply them there), and a writer waits for such hosts as cache_settle's deferred
-- path does. '' (a host of an older version, or no Redis yet) is never compared. The protocol
-- is at the top of fcgi/core/cache_outbox.c.
ALTER TABLE cache_hosts ADD COLUMN redis_run_id text NOT NULL DEFAULT ''
    CHECK (redis_run_id ~ '^[0-9A-Za-z]{0,47}$');
