-- Traffic routes (issue 14, functions/traffic/route-store.ts): an alias (or bare model id) split between model
-- versions by weight, sticky per key, with an optional shadow version that a share of requests also runs. No row:
-- the registry's plain alias. weights is a JSON array [{"model": "id@version", "weight": 90}, ...] in the order the
-- sticky buckets are laid out (so that moving weight between two versions moves only the keys in between).
CREATE TABLE IF NOT EXISTS model_routes (
  alias TEXT PRIMARY KEY,
  weights TEXT NOT NULL,
  shadow_model TEXT,
  shadow_percent REAL CHECK (shadow_percent IS NULL OR (shadow_percent >= 0 AND shadow_percent <= 100)),
  updated_at INTEGER NOT NULL
);

-- Shadow comparisons per (alias, version that answered, shadow version): texts compared, texts whose top label
-- agreed, the sum of |score delta| (the answered top label's score less the shadow's score for that label), and
-- texts skipped (their shadow run was dropped: too many running, or the shadow's queue full).
CREATE TABLE IF NOT EXISTS shadow_comparisons (
  alias TEXT NOT NULL,
  model TEXT NOT NULL,
  shadow_model TEXT NOT NULL,
  compared INTEGER NOT NULL DEFAULT 0,
  agreed INTEGER NOT NULL DEFAULT 0,
  score_delta_sum REAL NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (alias, model, shadow_model)
);
