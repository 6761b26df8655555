-- Region pinning (issue 14, functions/privacy/policy-store.ts): the jurisdiction a key's or tenant's requests are
-- pinned to, NULL for none. A key's NULL falls back to its tenant's region. No CHECK on the values: the list of
-- regions is the registry's (functions/registry/registry.ts REGIONS), validated by the admin API and the CLI, and
-- growing it must not need a table rebuild.
ALTER TABLE privacy_policies ADD COLUMN region TEXT;
