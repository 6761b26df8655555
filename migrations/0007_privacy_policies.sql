-- Privacy policies (issue 14, functions/privacy/policy-store.ts): one row per API key or tenant (scope 'key' or
-- 'tenant'); a key's row wins over its tenant's, no row means pii 'off' and retention 'standard'. Ids are not foreign
-- keys: the admin API checks that the key or tenant exists before it writes a row.
CREATE TABLE IF NOT EXISTS privacy_policies (
  scope TEXT NOT NULL CHECK (scope IN ('key', 'tenant')),
  id TEXT NOT NULL,
  pii TEXT NOT NULL CHECK (pii IN ('off', 'mask', 'block')),
  retention TEXT NOT NULL CHECK (retention IN ('standard', 'none')),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (scope, id)
);
