-- 014_payments_serial.sql: no parallel scan of payments. GET /payments' page is a backward walk
-- of payments_list_idx that stops after LIMIT rows (0.2 ms at 771,000 payments), but its generic
-- plan (the filters are "$n IS NULL OR ...", so the planner guesses their selectivity) made it a
-- Parallel Index Scan under Gather Merge: starting the two workers took 3.7 of the statement's
-- 6.4 ms (make bench, auto_explain). A list that reads a few dozen rows never gains from workers.
ALTER TABLE payments SET (parallel_workers = 0);
