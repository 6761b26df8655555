"""IMDB's labelled `train` reviews as labelled sentence windows, for the imdb-supervised stage.

Only `train.jsonl.gz` is opened: IMDB `test` stays the out-of-domain evaluation set. Each review is cut as the
pretraining corpus cuts it (corpus.review_windows: whole consecutive sentences, at most corpus.window_pieces pieces)
and every window takes its review's label. `validation_reviews` reviews, drawn with `validation_seed`, are held out
whole (their windows are never trained on) to measure the stage. The windows are written once to
OUT/windows.npz (about 3 CPU minutes for the 24,890 reviews) so a resumed stage does not cut them again.
"""
from __future__ import annotations

import collections
import gzip
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from common import IMDB_DIR, RecipeError
from corpus import PieceCache, review_windows
from wordpiece import WordPieceTokenizer

SPLIT = "train"


def labelled_reviews(every: int = 1, limit: int | None = None, split: str = SPLIT):
    """(text, label) of IMDB_DIR/<split>.jsonl.gz, every `every`-th review, `limit` in all (the file is sorted by label).

    Training stages use the default, `train`; only eval_imdb.py, the out-of-domain measurement, reads `test`."""
    path = IMDB_DIR / f"{split}.jsonl.gz"
    if not path.is_file():
        raise RecipeError(f"IMDB file not found: {path} (set SHARED_DIR or IMDB_DIR to the folder holding {split}.jsonl.gz)")
    seen = 0
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f):
            if n % every:
                continue
            try:
                row = json.loads(line)
                text, label = row["text"], int(row["label"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                raise RecipeError(f"{path}:{n + 1}: expected a JSON line with 'text' and 'label' (0 or 1)")
            if label not in (0, 1):
                raise RecipeError(f"{path}:{n + 1}: label {label}, expected 0 or 1")
            yield text, label
            seen += 1
            if limit and seen >= limit:
                return


class WindowExamples:
    """([CLS] window [SEP], label, review) for chosen windows, built on access (a list of 150,000 lists costs 300 MB)."""

    def __init__(self, windows: "LabelledWindows", chosen: np.ndarray, cls_id: int, sep_id: int):
        self.w, self.chosen, self.cls_id, self.sep_id = windows, chosen, cls_id, sep_id

    def __len__(self) -> int:
        return len(self.chosen)

    def __getitem__(self, k: int) -> tuple[list[int], int, int]:
        i, w = self.chosen[k], self.w
        return [self.cls_id, *w.ids[w.offsets[i] : w.offsets[i + 1]].tolist(), self.sep_id], int(w.labels[i]), int(w.review[i])

    def __iter__(self):
        return (self[k] for k in range(len(self)))


class LabelledWindows:
    """Flat window ids with offsets, each window's label and review, and which reviews are held out."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, labels: np.ndarray, review: np.ndarray, held: np.ndarray, info: dict):
        self.ids, self.offsets, self.labels, self.review, self.held, self.info = ids, offsets, labels, review, held, info

    def examples(self, validation: bool, cls_id: int, sep_id: int) -> WindowExamples:
        """The training (or the held-out) reviews' windows."""
        return WindowExamples(self, np.flatnonzero(self.held[self.review] == validation), cls_id, sep_id)


def cut(tok: WordPieceTokenizer, width: int, validation_reviews: int, seed: int, every: int, limit: int | None, log) -> LabelledWindows:
    pieces, counts = PieceCache(tok), collections.Counter()
    windows, labels, review = [], [], []
    n = -1
    for n, (text, label) in enumerate(labelled_reviews(every, limit)):
        cut_windows = review_windows(text, pieces, width, counts)
        windows += cut_windows
        labels += [label] * len(cut_windows)
        review += [n] * len(cut_windows)
        if n % 5000 == 4999:
            log(f"{n + 1} labelled reviews, {len(windows)} windows")
    reviews = n + 1
    if reviews <= validation_reviews:
        raise RecipeError(f"only {reviews} labelled reviews, fewer than the {validation_reviews} to hold out")
    held = np.zeros(reviews, dtype=bool)
    held[np.random.default_rng(seed).choice(reviews, validation_reviews, replace=False)] = True
    lengths = np.array([len(w) for w in windows], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    ids = np.fromiter((i for w in windows for i in w), dtype=np.uint16, count=int(offsets[-1]))
    labels_a, review_a = np.array(labels, dtype=np.uint8), np.array(review, dtype=np.int32)
    digest = hashlib.sha256(b"".join(a.tobytes() for a in (ids, offsets, labels_a, review_a, held))).hexdigest()
    train_windows = int((~held[review_a]).sum())
    info = {"split": SPLIT, "reviews": reviews, "windows": len(windows), "train_windows": train_windows,
            "validation_reviews": validation_reviews, "validation_windows": len(windows) - train_windows,
            "positive_windows": int(labels_a.sum()), "pieces": int(offsets[-1]), "sha256": digest}
    return LabelledWindows(ids, offsets, labels_a, review_a, held, info)


def load_or_cut(path: Path, key: dict, tok: WordPieceTokenizer, width: int, hp: dict, every: int, limit: int | None, log) -> LabelledWindows:
    """The cached windows at path if they were cut with the same key (vocabulary, width, hold-out), else cut and cache them."""
    if path.is_file():
        with np.load(path) as z:
            if json.loads(str(z["key"])) == key:
                w = LabelledWindows(z["ids"], z["offsets"], z["labels"], z["review"], z["held"], json.loads(str(z["info"])))
                log(f"IMDB windows from {path}: {w.info}")
                return w
        log(f"{path} was cut with other settings: cutting again")
    w = cut(tok, width, hp["validation_reviews"], hp["validation_seed"], every, limit, log)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, ids=w.ids, offsets=w.offsets, labels=w.labels, review=w.review, held=w.held,
             key=np.array(json.dumps(key, sort_keys=True)), info=np.array(json.dumps(w.info)))
    os.replace(tmp, path)
    log(f"IMDB windows written to {path}: {w.info}")
    return w
