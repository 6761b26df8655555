"""SST-2 loading, the validation hold-out, and length-bucketed batching."""
from __future__ import annotations

import itertools
import random
from pathlib import Path

import torch

from wordpiece import WordPieceTokenizer, normalize, pre_tokenize


class RecipeError(Exception):
    """A failure with a one-line reason for the user (missing file, bad data)."""


def read_tsv(path: Path) -> list[tuple[str, int]]:
    if not path.is_file():
        raise RecipeError(f"data file not found: {path} (set DATA_DIR to the folder holding SST-2's train.tsv)")
    rows: list[tuple[str, int]] = []
    with path.open(encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if len(header) != 2 or header[1] != "label":
            raise RecipeError(f"{path}: expected a header '<text>\\tlabel', got {header!r}")
        for line_no, line in enumerate(f, start=2):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 2 or parts[1] not in ("0", "1"):
                raise RecipeError(f"{path}:{line_no}: expected '<text>\\t0|1'")
            rows.append((parts[0].strip(), int(parts[1])))
    if not rows:
        raise RecipeError(f"{path}: no rows")
    return rows


def _spans(words: list[str]) -> set[str]:
    return {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}


def split_holdout(rows: list[tuple[str, int]], size: int, min_words: int, seed: int, whole_sentences: bool = False):
    """Hold out sentences for validation and drop every training phrase contained in one of them.

    SST-2's train.tsv holds phrases cut from the same sentences; without the second step validation would score
    phrases the model was trained on. With whole_sentences, only rows that no other row contains are held out:
    otherwise a held-out row is often itself a phrase of a longer training sentence, and validation overstates
    accuracy (with the default seed, 715 of 1,000 held-out rows are such phrases).
    """
    rng = random.Random(seed)
    words = [pre_tokenize(normalize(text)) for text, _ in rows]
    if whole_sentences:
        candidates = [i for i, w in enumerate(words) if len(w) >= min_words]
        rng.shuffle(candidates)
        joined = "\n".join(" ".join(w) for w in words)
        held = set(itertools.islice((i for i in candidates if joined.count(" ".join(words[i])) == 1), size))
    else:  # the split of the first sst2-bert model (holdout.whole_sentences false)
        candidates = [i for i, (text, _) in enumerate(rows) if len(text.split()) >= min_words]
        held = set(rng.sample(candidates, min(size, len(candidates))))
    held_spans: set[str] = set()
    for i in held:
        held_spans |= _spans(words[i])
    train = [r for i, r in enumerate(rows) if i not in held and " ".join(words[i]) not in held_spans]
    return train, [rows[i] for i in sorted(held)]


def encode_rows(tokenizer: WordPieceTokenizer, rows: list[tuple[str, int]]) -> list[tuple[list[int], int]]:
    return [(tokenizer.encode(text), label) for text, label in rows]


def bucketed_batches(examples: list, batch_size: int, rng: random.Random, length=lambda e: len(e[0])) -> list[list]:
    """Shuffle, sort within large chunks by length (little padding), then shuffle the batches."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: length(examples[i]))
        batches += [[examples[i] for i in part[j : j + batch_size]] for j in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def pad(sequences: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return ids, mask
