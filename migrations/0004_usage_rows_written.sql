-- Fewer writes per usage record (issue 16): D1 bills every row written, and a row costs 1 + one per index it is in.
-- Before: the table row, the index SQLite makes for `id TEXT PRIMARY KEY` on a rowid table, and three indexes = 5.
-- After: the table keyed by id itself (WITHOUT ROWID: the primary key is the table, no second copy) and the two
-- indexes the queries use = 3. usage_by_key_time is dropped: no query reads usage by key (a key's spend is in
-- key_month_spend). The usage queries: a tenant's records or sums in a time range (usage_by_tenant_time), and all
-- tenants' in a range (the Stripe export, the admin's usage: usage_by_time). INSERT OR IGNORE still conflicts on id.
CREATE TABLE usage_by_id (
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL,
  key_id TEXT,
  tenant_id TEXT,
  model TEXT,
  model_version TEXT,
  path TEXT CHECK (path IS NULL OR path IN ('edge', 'gpu')),
  route TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  compute_ms REAL NOT NULL,
  status INTEGER NOT NULL,
  cost_micro_usd REAL NOT NULL,
  idempotent_replay INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO usage_by_id (id, request_id, key_id, tenant_id, model, model_version, path, route, input_tokens, output_tokens, compute_ms, status, cost_micro_usd, idempotent_replay, created_at)
  SELECT id, request_id, key_id, tenant_id, model, model_version, path, route, input_tokens, output_tokens, compute_ms, status, cost_micro_usd, idempotent_replay, created_at FROM usage;
DROP TABLE usage;
ALTER TABLE usage_by_id RENAME TO usage;
CREATE INDEX usage_by_tenant_time ON usage (tenant_id, created_at);
CREATE INDEX usage_by_time ON usage (created_at);
