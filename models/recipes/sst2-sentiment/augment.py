"""Unlabelled text for distillation: new sentences made from the training split, for teachers to label.

Usage: python3 augment.py --rows train_rows.tsv --out augmented.tsv [--count 200000] [--seed N]
Two ways, after Tang et al. 2019 ("Distilling task-specific knowledge from BERT into simple neural networks"):
- word replacement: each word of a training row is swapped, with probability 0.15, for a training word drawn by
  frequency;
- recombination: the start of one training row joined to the end of another with a connective ("but", "and",
  ",", ...), so the student sees contrasts and conjunctions the labelled rows hold few of.
Rows already in the training split are skipped. The label column is 0: the teachers' logits are the labels.
"""
from __future__ import annotations

import argparse
import collections
import random
import sys
from pathlib import Path

from data import RecipeError, read_tsv

CONNECTIVES = ["but", "and", ",", "though", "yet", ";", "while", "although", "because", "so"]


def augment(texts: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    rows = [t.split() for t in texts]
    counts = collections.Counter(w for r in rows for w in r)
    words = [w for w, c in counts.items() if c >= 2]
    weights = [counts[w] for w in words]
    bases = [r for r in rows if len(r) >= 4]
    seen = set(texts)
    out: list[str] = []
    pool: list[str] = []
    while len(out) < count:
        if not pool:
            pool = rng.choices(words, weights=weights, k=10_000)
        if rng.random() < 0.6:
            base = rng.choice(bases)
            new = [pool.pop() if rng.random() < 0.15 and pool else w for w in base]
        else:
            a, b = rng.choice(bases), rng.choice(bases)
            new = a[: rng.randint(2, len(a))] + [rng.choice(CONNECTIVES)] + b[rng.randint(0, len(b) - 2):]
        text = " ".join(new)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", required=True, help="the training split as TSV (train.py --write-train-rows)")
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=20261129)
    args = p.parse_args()
    texts = [t for t, _ in read_tsv(Path(args.rows))]
    made = augment(texts, args.count, args.seed)
    Path(args.out).write_text("sentence\tlabel\n" + "".join(f"{t}\t0\n" for t in made), encoding="utf-8")
    print(f"wrote {len(made)} sentences to {args.out}")


if __name__ == "__main__":
    try:
        main()
    except RecipeError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
