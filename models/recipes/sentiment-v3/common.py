"""Shared by the v3 stages: paths, the recipe, one-line failures, and the v2 recipe's modules on the import path."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
V2 = HERE.parent / "sst2-sentiment"
sys.path.insert(0, str(V2))  # bert, data, training, wordpiece, export: reused, not copied

from data import RecipeError, read_tsv, split_holdout  # noqa: E402

SHARED = Path(os.environ.get("SHARED_DIR", str(REPO.parent / "shared")))
SST2_DIR = Path(os.environ.get("DATA_DIR", str(SHARED / "data" / "sst2")))
IMDB_DIR = Path(os.environ.get("IMDB_DIR", str(SHARED / "data" / "imdb")))
WORK = Path(os.environ.get("RECIPE_WORK", str(REPO / ".recipe-work" / "sentiment-v3")))


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def load_recipe(path: str | Path = HERE / "recipe.json") -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise RecipeError(f"cannot read recipe {path}: {e}")


def logger():
    started = time.time()
    return lambda msg: print(f"[{time.time() - started:7.1f}s] {msg}", flush=True)


def sst2_split(recipe: dict, limit: int | None = None):
    """SST-2 train.tsv split exactly as the v2 recipe splits it: (training rows, held-out sentences)."""
    rows = read_tsv(SST2_DIR / "train.tsv")
    if limit:
        rows = rows[:limit]
    s = recipe["split"]
    size, min_words = (s["size"], s["min_words"]) if not limit else (60, 3)
    return split_holdout(rows, size, min_words, s["seed"], s["whole_sentences"])


def atomic_save(obj, path: Path) -> None:
    """torch.save to a temporary file, then rename: a crash never leaves a half-written checkpoint."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main_guard(main) -> None:
    """Runs main(), turning RecipeError (and a Ctrl-C) into one line on stderr."""
    try:
        main()
    except RecipeError as e:
        fail(str(e))
    except KeyboardInterrupt:
        fail("interrupted: run the same command again to resume from the last checkpoint")
