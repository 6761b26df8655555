-- Usage roll-ups (issue 16): at the edge a key's Durable Object sums its requests' records per minute, model,
-- route and status, and writes one row per group every few seconds (functions/worker/key-usage-meter.ts) instead
-- of one row per request. `requests` is how many requests a row sums: 1 for a per-request record (Node, AWS, the
-- edge's keyless requests and fine-tuning jobs), more for a roll-up. Reports sum it instead of counting rows.
-- Adding a column with a constant default rewrites no row and adds no index: a row still costs 3 rows written.
ALTER TABLE usage ADD COLUMN requests INTEGER NOT NULL DEFAULT 1;
