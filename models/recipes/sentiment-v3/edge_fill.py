"""The exported edge BiLSTM with the words its table cut dropped filled back in, as raw GloVe rows.

Usage: python3 edge_fill.py --work WORK --from models/sst2-glove-bilstm --out FOLDER [--min-count N] [--smoke]
export_bilstm.py cut the trained 85,658-word table to the SST-2 training words plus the words seen at least
export.min_corpus_count times in the corpus, for the Worker bundle; the trained table itself is not kept. Its rows were
initialised from GloVe and trained with a small embedding learning rate, so a dropped word's raw GloVe vector is close
to what the network learnt for it. This stage appends the GloVe rows of the words the trained table had and the cut
dropped (GloVe subset words not in the served table) that occur at least --min-count times in the corpus
(corpus/words.tsv), int8 with a scale per row as models/tools/quantize/int8-weights.ts writes them, after the served
table's ids (they keep their ids). Deterministic from the exported folder, words.tsv and the GloVe subset.
FOLDER gets model_quantized.onnx and the tokenizer files; FOLDER/onnx/model.onnx is the same table in float32 (the
served rows dequantized, the filled rows raw), for the fp32 column. fill_report.json says how far the served rows
moved from their GloVe vectors (the check that raw GloVe rows are on the trained rows' scale).
Then both files score v2's hold-out in the project's engine. Never reads SST-2 dev.tsv.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
from onnx import load_model, numpy_helper, save_model

from common import REPO, WORK, RecipeError, load_recipe, logger, main_guard, sst2_split
from export import _write_json
from export_bilstm import tokenizer_json
from export_classifier import run_tool
from glove import CLITICS, load_subset

TABLE, SCALE = "embedded_int8_q0", "embedded_row_scale_q1"  # models/tools/quantize-cli.ts's names for the word table
COPIED = ["special_tokens_map.json", "tokenizer_config.json", "reference_logits.json"]


def corpus_counts(work: Path) -> dict[str, int]:
    path = work / "corpus" / "words.tsv"
    if not path.is_file():
        raise RecipeError(f"{path} not found (run: bash models/recipes/sentiment-v3/run.sh corpus)")
    counts = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, n = line.partition("\t")
        if n.isdigit():
            counts[word] = int(n)
    return counts


def quantize_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8-weights.ts's quantizeRows: scale = max|row| / 127 (float32), values round-half-up, clamped to +-127."""
    max_abs = np.abs(rows).max(1)
    scales = np.where(max_abs > 0, max_abs.astype(np.float64) / 127, 1.0).astype(np.float32)
    values = np.clip(np.floor(rows.astype(np.float64) / scales[:, None].astype(np.float64) + 0.5), -127, 127)
    return values.astype(np.int8), scales


def drift(served: np.ndarray, words: list[str], glove: dict[str, np.ndarray]) -> dict:
    """How the served (trained, dequantized) rows compare with their raw GloVe vectors."""
    pairs = [(i, glove[CLITICS.get(w, w)] if CLITICS.get(w, w) in glove else glove.get(w)) for i, w in enumerate(words)]
    pairs = [(i, g) for i, g in pairs if g is not None and i >= 4]
    t = served[[i for i, _ in pairs]].astype(np.float64)
    g = np.stack([g for _, g in pairs]).astype(np.float64)
    tn, gn = np.linalg.norm(t, axis=1), np.linalg.norm(g, axis=1)
    cos = (t * g).sum(1) / np.maximum(tn * gn, 1e-12)
    ratio = tn / np.maximum(gn, 1e-12)
    q = lambda a: [round(float(x), 4) for x in np.quantile(a, [0.05, 0.5, 0.95])]
    return {"rows_compared": len(pairs), "norm_ratio_p5_p50_p95": q(ratio), "cosine_p5_p50_p95": q(cos),
            "least_squares_global_scale": round(float((t * g).sum() / (g * g).sum()), 4),
            "relative_change_p50": round(float(np.median(np.linalg.norm(t - g, axis=1) / np.maximum(gn, 1e-12))), 4)}


def fill(source: Path, out: Path, work: Path, min_count: int, recipe: dict, log) -> dict:
    if not (source / "onnx" / "model_quantized.onnx").is_file():
        raise RecipeError(f"{source}/onnx/model_quantized.onnx not found (run: bash models/recipes/sentiment-v3/run.sh edge-export)")
    model = load_model(str(source / "onnx" / "model_quantized.onnx"))
    inits = {i.name: i for i in model.graph.initializer}
    if TABLE not in inits or SCALE not in inits or not (source / "vocab.txt").is_file():
        raise RecipeError(f"{source}: no {TABLE}/{SCALE} in model_quantized.onnx or no vocab.txt (not an export_bilstm.py folder)")
    words = (source / "vocab.txt").read_text(encoding="utf-8").rstrip("\n").split("\n")
    table, scales = numpy_helper.to_array(inits[TABLE]), numpy_helper.to_array(inits[SCALE])
    if table.shape[0] != len(words):
        raise RecipeError(f"{source}: vocab.txt has {len(words)} words, the table {table.shape[0]} rows")
    glove, counts, known = load_subset(work / "glove", recipe["glove"]["dim"]), corpus_counts(work), set(words)
    # The dropped words of the trained table (edge_bilstm.word_table: training words + GloVe subset), sorted as it was.
    added = sorted(w for w in glove if w not in known and counts.get(w, 0) >= min_count)
    rows = np.stack([glove[w] for w in added]).astype(np.float32) if added else np.zeros((0, table.shape[1]), np.float32)
    new_values, new_scales = quantize_rows(rows)
    served = table.astype(np.float32) * scales.reshape(-1, 1)
    filled_words = words + added

    out.mkdir(parents=True, exist_ok=True)
    (out / "onnx").mkdir(exist_ok=True)
    int8_table = np.concatenate([table, new_values])
    int8_scales = np.concatenate([scales.reshape(-1), new_scales]).reshape(-1, 1).astype(np.float32)
    inits[TABLE].CopyFrom(numpy_helper.from_array(int8_table, TABLE))
    inits[SCALE].CopyFrom(numpy_helper.from_array(int8_scales, SCALE))
    save_model(model, str(out / "onnx" / "model_quantized.onnx"))
    # fp32: the same graph, the table float (Cast float->float is a no-op) and every scale 1.
    inits[TABLE].CopyFrom(numpy_helper.from_array(np.concatenate([served, rows]).astype(np.float32), TABLE))
    inits[SCALE].CopyFrom(numpy_helper.from_array(np.ones_like(int8_scales), SCALE))
    save_model(model, str(out / "onnx" / "model.onnx"))

    config = json.loads((source / "config.json").read_text())
    _write_json(out / "config.json", {**config, "vocab_size": len(filled_words)})
    _write_json(out / "tokenizer.json", tokenizer_json(filled_words, config["max_position_embeddings"]))
    (out / "vocab.txt").write_text("\n".join(filled_words) + "\n", encoding="utf-8")
    for name in COPIED:
        if (source / name).is_file():
            shutil.copy(source / name, out / name)
    shown = source.resolve().relative_to(REPO) if source.resolve().is_relative_to(REPO) else source
    return {"source": str(shown), "min_corpus_count": min_count, "words_before": len(words),
            "words_added": len(added), "words_after": len(filled_words),
            "served_rows_vs_glove": drift(served, words, glove)}


def holdout(out: Path, recipe: dict, smoke: bool, log) -> dict:
    _, rows = sst2_split(recipe, 400 if smoke else None)
    path = out / "holdout.tsv.tmp"
    path.write_text("sentence\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in rows), encoding="utf-8")
    try:
        log(run_tool(["models/tools/eval-cli.ts", str(out), "--data", str(path), "--json", str(out / "holdout.json.tmp")], "hold-out evaluation"))
        results = json.loads((out / "holdout.json.tmp").read_text())["results"]
    finally:
        path.unlink(missing_ok=True)
        (out / "holdout.json.tmp").unlink(missing_ok=True)
    return {r["variant"]: round(r["accuracy"], 4) for r in results}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default=str(WORK))
    p.add_argument("--from", dest="source", required=True, help="an export_bilstm.py model folder (its model_quantized.onnx)")
    p.add_argument("--out", required=True, help="folder to write (int8 and fp32)")
    p.add_argument("--min-count", type=int, help="corpus count a dropped word needs to come back (default recipe.json edge_bilstm.fill)")
    p.add_argument("--smoke", action="store_true", help="the smoke split's hold-out")
    args = p.parse_args()
    recipe, log = load_recipe(), logger()
    min_count = args.min_count if args.min_count is not None else recipe["edge_bilstm"]["fill"]["min_corpus_count"]
    if min_count < 1:
        raise RecipeError("--min-count must be at least 1 (a word the corpus never has cannot be scored)")
    out = Path(args.out)
    report = fill(Path(args.source), out, Path(args.work), min_count, recipe, log)
    log(f"filled: {json.dumps(report)}")
    report["holdout"] = holdout(out, recipe, args.smoke, log)
    _write_json(out / "fill_report.json", report)
    log(f"wrote {out}: hold-out {report['holdout']}")


if __name__ == "__main__":
    main_guard(main)
