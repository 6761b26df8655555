"""Pretraining text: IMDB reviews (streamed from gzip JSON lines) and SST-2's training split, as WordPiece windows.

  python3 corpus.py vocab   --out WORK/vocab.txt  [--smoke]   WordPiece vocabulary (v2's trainer) on IMDB + SST-2 train
  python3 corpus.py windows --vocab WORK/vocab.txt --out WORK/corpus [--smoke]
      windows of whole consecutive sentences of one review, at most corpus.window_pieces pieces, plus every SST-2
      training row of 3+ words as its own window; written as ids.u16 (flat) + offsets.i64 + words.tsv (word counts).
SST-2 dev and the v2 hold-out never enter: the SST-2 text is the training split after split_holdout.
"""
from __future__ import annotations

import argparse
import collections
import gzip
import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

from common import IMDB_DIR, RecipeError, load_recipe, logger, main_guard, sst2_split
from wordpiece import WordPieceTokenizer, normalize, pre_tokenize, train_vocab

SMOKE_REVIEWS, SMOKE_ROWS, SMOKE_VOCAB = 300, 400, 800
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def imdb_texts(splits: list[str], limit: int | None = None, every: int = 1):
    """Streams review texts from IMDB_DIR/<split>.jsonl.gz (every `every`-th review, `limit` in all)."""
    seen = 0
    for split in splits:
        path = IMDB_DIR / f"{split}.jsonl.gz"
        if not path.is_file():
            raise RecipeError(f"IMDB file not found: {path} (set SHARED_DIR or IMDB_DIR to the folder holding {split}.jsonl.gz)")
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for n, line in enumerate(f):
                if n % every:
                    continue
                try:
                    text = json.loads(line)["text"]
                except (json.JSONDecodeError, KeyError):
                    raise RecipeError(f"{path}:{n + 1}: expected a JSON line with a 'text' field")
                yield text
                seen += 1
                if limit and seen >= limit:
                    return


def read_vocab(path: Path) -> list[str]:
    if not path.is_file():
        raise RecipeError(f"vocabulary not found: {path} (run: bash models/recipes/sentiment-v3/run.sh vocab)")
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


class PieceCache:
    """WordPiece ids of a normalized word, memoized (the corpus has ~25 M words and a few 100 k distinct ones)."""

    def __init__(self, tok: WordPieceTokenizer):
        self.tok, self.cache = tok, {}

    def words(self, words: list[str]) -> list[int]:
        out: list[int] = []
        for w in words:
            ids = self.cache.get(w)
            if ids is None:
                ids = self.cache[w] = self.tok.word_ids(w)
            out.extend(ids)
        return out


def review_windows(text: str, pieces: PieceCache, width: int, counts: collections.Counter) -> list[list[int]]:
    """Consecutive whole sentences packed up to `width` pieces; a longer sentence is cut into `width`-piece parts."""
    windows, current = [], []
    for sentence in SENTENCE_END.split(text):
        words = pre_tokenize(normalize(sentence))
        if not words:
            continue
        counts.update(words)
        ids = pieces.words(words)
        if current and len(current) + len(ids) > width:
            windows.append(current)
            current = []
        while len(ids) > width:
            windows.append(ids[:width])
            ids = ids[width:]
        current = current + ids
    if current:
        windows.append(current)
    return windows


def write_vocab(args, recipe: dict, log) -> None:
    train_rows, _ = sst2_split(recipe, SMOKE_ROWS if args.smoke else None)
    every = recipe["vocab"]["imdb_every"]
    texts = [t for t, _ in train_rows]
    texts += list(imdb_texts(recipe["corpus"]["imdb_splits"], SMOKE_REVIEWS if args.smoke else None, every))
    log(f"training a WordPiece vocabulary on {len(train_rows)} SST-2 training rows + {len(texts) - len(train_rows)} IMDB reviews (every {every}th)")
    vocab = train_vocab(texts, SMOKE_VOCAB if args.smoke else recipe["vocab"]["size"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_name(out.name + ".tmp").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    os.replace(out.with_name(out.name + ".tmp"), out)
    log(f"wrote {out}: {len(vocab)} tokens")


def write_windows(args, recipe: dict, log) -> None:
    vocab = read_vocab(Path(args.vocab))
    tok = WordPieceTokenizer(vocab, recipe["max_length"])
    pieces, counts = PieceCache(tok), collections.Counter()
    width, c = recipe["corpus"]["window_pieces"], recipe["corpus"]
    windows: list[list[int]] = []
    for n, text in enumerate(imdb_texts(c["imdb_splits"], SMOKE_REVIEWS if args.smoke else None)):
        windows += review_windows(text, pieces, width, counts)
        if n % 10000 == 9999:
            log(f"{n + 1} reviews, {len(windows)} windows")
    imdb = len(windows)
    train_rows, _ = sst2_split(recipe, SMOKE_ROWS if args.smoke else None)
    for text, _ in train_rows:
        words = pre_tokenize(normalize(text))
        counts.update(words)
        if len(words) >= c["sst2_min_words"]:
            windows.append(pieces.words(words)[:width])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lengths = np.array([len(w) for w in windows], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    ids = np.fromiter((i for w in windows for i in w), dtype=np.uint16, count=int(offsets[-1]))
    ids.tofile(out / "ids.u16")
    offsets.tofile(out / "offsets.i64")
    (out / "words.tsv").write_text("".join(f"{w}\t{k}\n" for w, k in counts.most_common()), encoding="utf-8")
    info = {"windows": len(windows), "imdb_windows": imdb, "sst2_windows": len(windows) - imdb, "pieces": int(offsets[-1]),
            "words": sum(counts.values()), "distinct_words": len(counts), "unk_pieces": int((ids == tok.unk_id).sum()),
            "sha256": hashlib.sha256(ids.tobytes() + offsets.tobytes()).hexdigest(),
            "vocab_sha256": hashlib.sha256("\n".join(vocab).encode()).hexdigest()}
    (out / "corpus.json").write_text(json.dumps(info, indent=2) + "\n")
    log(f"wrote {out}: {json.dumps(info)}")


class Corpus:
    """The windows written by `corpus.py windows`, read back (memory-mapped ids)."""

    def __init__(self, folder: Path):
        if not (folder / "corpus.json").is_file():
            raise RecipeError(f"pretraining corpus not found in {folder} (run: bash models/recipes/sentiment-v3/run.sh corpus)")
        self.info = json.loads((folder / "corpus.json").read_text())
        self.ids = np.fromfile(folder / "ids.u16", dtype=np.uint16)
        self.offsets = np.fromfile(folder / "offsets.i64", dtype=np.int64)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def window(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i + 1]]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stage", choices=["vocab", "windows"])
    p.add_argument("--out", required=True)
    p.add_argument("--vocab", help="windows: the vocabulary file")
    p.add_argument("--smoke", action="store_true")
    args = p.parse_args()
    (write_vocab if args.stage == "vocab" else write_windows)(args, load_recipe(), logger())


if __name__ == "__main__":
    main_guard(main)
