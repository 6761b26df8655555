-- Fewer writes per budget hold and month of spend (issue 16): D1 bills 1 row written plus one per index, for the insert and again for
-- the delete that releases it. Before: the table row, the index of `id TEXT PRIMARY KEY` on a rowid table and
-- budget_holds_by_key = 3 rows each way (6 per budgeted request). After: the table keyed by (key_id, id) itself
-- (WITHOUT ROWID) = 1 row each way. The check sums one key's holds (a range of the key) and the release deletes
-- one (key_id, id): both are ranges or points of the key.
CREATE TABLE budget_holds_by_key_id (
  key_id TEXT NOT NULL,
  id TEXT NOT NULL,
  micro_usd REAL NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (key_id, id)
) WITHOUT ROWID;
INSERT INTO budget_holds_by_key_id (key_id, id, micro_usd, created_at) SELECT key_id, id, micro_usd, created_at FROM budget_holds;
DROP TABLE budget_holds;
ALTER TABLE budget_holds_by_key_id RENAME TO budget_holds;

-- A key's first record of a month inserts its key_month_spend row: 2 rows written on a rowid table (the row and the
-- index of its composite primary key), 1 keyed by (key_id, month) itself. The month's later records update 1 row.
CREATE TABLE key_month_spend_by_key (
  key_id TEXT NOT NULL,
  month TEXT NOT NULL,
  micro_usd REAL NOT NULL,
  PRIMARY KEY (key_id, month)
) WITHOUT ROWID;
INSERT INTO key_month_spend_by_key (key_id, month, micro_usd) SELECT key_id, month, micro_usd FROM key_month_spend;
DROP TABLE key_month_spend;
ALTER TABLE key_month_spend_by_key RENAME TO key_month_spend;
