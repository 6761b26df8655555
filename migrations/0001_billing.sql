-- Keys, usage and idempotency for per-request billing. The same SQL runs on SQLite (Node) and Cloudflare D1.
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  stripe_customer_id TEXT,
  created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  name TEXT,
  prefix TEXT NOT NULL UNIQUE,
  key_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled', 'revoked')),
  rpm INTEGER NOT NULL CHECK (rpm > 0),
  tpm INTEGER NOT NULL CHECK (tpm > 0),
  monthly_budget_micro_usd INTEGER CHECK (monthly_budget_micro_usd IS NULL OR monthly_budget_micro_usd >= 0),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- One row per request after authentication; never a request or response body.
CREATE TABLE usage (
  request_id TEXT PRIMARY KEY,
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
CREATE INDEX usage_by_key_time ON usage (key_id, created_at);
CREATE INDEX usage_by_tenant_time ON usage (tenant_id, created_at);

-- The first request that used an Idempotency-Key: a retry within 24 hours is answered again but not billed again.
CREATE TABLE idempotency_keys (
  key_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (key_id, idempotency_key)
);
