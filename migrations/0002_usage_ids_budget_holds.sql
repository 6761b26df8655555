-- Usage records get a primary key made by the server. The client's x-request-id stays, for correlation only: two
-- requests (even of two tenants) may send the same one, and keyed on it all but one went unrecorded.
CREATE TABLE usage_records (
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
);
INSERT INTO usage_records SELECT request_id AS id, request_id, key_id, tenant_id, model, model_version, path, route, input_tokens,
  output_tokens, compute_ms, status, cost_micro_usd, idempotent_replay, created_at FROM usage;
DROP TABLE usage;
ALTER TABLE usage_records RENAME TO usage;
CREATE INDEX usage_by_key_time ON usage (key_id, created_at);
CREATE INDEX usage_by_tenant_time ON usage (tenant_id, created_at);
CREATE INDEX usage_by_time ON usage (created_at);

-- Each key's spend per UTC month ('YYYY-MM'), updated in the same transaction as the usage records it sums.
CREATE TABLE key_month_spend (
  key_id TEXT NOT NULL,
  month TEXT NOT NULL,
  micro_usd REAL NOT NULL,
  PRIMARY KEY (key_id, month)
);
INSERT INTO key_month_spend (key_id, month, micro_usd)
  SELECT key_id, strftime('%Y-%m', created_at / 1000, 'unixepoch'), SUM(cost_micro_usd) FROM usage WHERE key_id IS NOT NULL GROUP BY 1, 2;

-- Budget reserved by requests in flight (their maximum cost), released when their usage record is written.
CREATE TABLE budget_holds (
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  micro_usd REAL NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX budget_holds_by_key ON budget_holds (key_id, created_at);

-- Idempotency claims are bound to the request (a hash of method, path and body) and keep its answer for replays.
-- Claims made before this migration had neither; they are dropped (a retry of one runs, and is billed, again).
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
  key_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  usage_id TEXT NOT NULL,
  status INTEGER,
  content_type TEXT,
  body_base64 TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (key_id, idempotency_key)
);
