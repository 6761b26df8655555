-- Fine-tuning (issue 12): training files, jobs with their events, and the tenant models that succeeded jobs make.
-- The same SQL runs on SQLite (Node) and Cloudflare D1. Times are unix seconds; JSON columns hold TEXT. No foreign
-- keys: D1 enforces them and SQLite does not by default, and the two must behave alike.

-- A file's bytes live in a blob store under <tenant>/<id>; the row is what makes a file visible, and quota sums rows.
CREATE TABLE tuning_files (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  filename TEXT NOT NULL,
  purpose TEXT NOT NULL CHECK (purpose IN ('fine-tune', 'fine-tune-results')),
  bytes INTEGER NOT NULL CHECK (bytes >= 0),
  created_at INTEGER NOT NULL,
  row_count INTEGER,
  labels TEXT
);
-- Listings are newest first with an `after` cursor (created_at DESC, id DESC); the sum of bytes for quota uses it too.
CREATE INDEX tuning_files_by_tenant ON tuning_files (tenant_id, created_at DESC, id DESC);
CREATE INDEX tuning_files_by_tenant_purpose ON tuning_files (tenant_id, purpose, created_at DESC, id DESC);

CREATE TABLE tuning_jobs (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  key_id TEXT,
  model TEXT NOT NULL,
  training_file TEXT NOT NULL,
  validation_file TEXT,
  hyperparameters TEXT NOT NULL,
  suffix TEXT,
  seed INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('validating_files', 'queued', 'running', 'succeeded', 'failed', 'cancelled')),
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  estimated_finish INTEGER,
  error TEXT,
  fine_tuned_model TEXT,
  trained_tokens INTEGER,
  result TEXT,
  result_files TEXT NOT NULL,
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  usage_id TEXT NOT NULL
);
CREATE INDEX tuning_jobs_by_tenant ON tuning_jobs (tenant_id, created_at DESC, id DESC);
-- What a restarted deployment re-queues: every tenant's unfinished jobs, oldest first.
CREATE INDEX tuning_jobs_by_status ON tuning_jobs (status, created_at, id);

-- seq orders a job's events from 1 (SSE ids, `after` cursors); the unique index also serves every listing by job.
CREATE TABLE tuning_job_events (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL CHECK (seq >= 1),
  created_at INTEGER NOT NULL,
  level TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
  type TEXT NOT NULL CHECK (type IN ('message', 'metrics')),
  message TEXT NOT NULL,
  data TEXT,
  UNIQUE (job_id, seq)
);

-- name: ft:<base id>:<tenant>:<suffix>:<job id>; head: the encoded classifier head (kilobytes).
CREATE TABLE tenant_models (
  name TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  base TEXT NOT NULL,
  labels TEXT NOT NULL,
  head BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX tenant_models_by_tenant ON tenant_models (tenant_id, created_at DESC, name DESC);
