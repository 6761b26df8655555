"""The distilled v3 classifier as a transformers.js text-classification folder, quantized and checked.

Usage: python3 export_classifier.py --work WORK --out models/sst2-bert [--model distill/model.pt] [--smoke]
Writes config.json (BertForSequenceClassification; `embedding_size` records the factorized embeddings, whose
100-to-192 projection is a MatMul inside the graph), tokenizer.json, tokenizer_config.json, vocab.txt,
special_tokens_map.json, onnx/model.onnx (fp32: input_ids, attention_mask, token_type_ids int64 [batch, seq] ->
logits float32 [batch, 2]), onnx/model_quantized.onnx (int8, models/tools/quantize-cli.ts, as v2) and
training_report.json (the distillation report). Then it scores v2's hold-out with both ONNX files in the project's
own engine (models/tools/eval-cli.ts, onnxruntime-web) and refuses an export whose fp32 accuracy differs from
torch's, so a wrong graph never reaches the registry. Never reads SST-2 dev.tsv (run.sh's eval stage does).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import torch

from common import REPO, WORK, RecipeError, load_recipe, logger, main_guard, sst2_split
from corpus import SMOKE_ROWS, read_vocab
from data import encode_rows
from distill import load_classifier_state
from electra import configs
from export import _write_json, export_model_folder
from training import accuracy
from wordpiece import WordPieceTokenizer


def run_tool(args: list[str], what: str) -> str:
    done = subprocess.run(["npx", "tsx", *args], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RecipeError(f"{what} failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    return done.stdout.strip()


def onnx_holdout_check(out: Path, holdout_rows: list, torch_accuracy: float, log) -> dict[str, float]:
    """Both ONNX files of `out` on the hold-out in the project's engine; refuses a graph that is not the torch model."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = Path(tmp) / "holdout.tsv"
        rows.write_text("sentence\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in holdout_rows), encoding="utf-8")
        log(run_tool(["models/tools/eval-cli.ts", str(out), "--data", str(rows), "--json", f"{tmp}/eval.json"], "hold-out evaluation"))
        onnx_results = {r["variant"]: r["accuracy"] for r in json.loads(Path(f"{tmp}/eval.json").read_text())["results"]}
    # One sentence may flip on a logit within float rounding of a tie; more means the graph is not the model.
    if abs(onnx_results["model"] - torch_accuracy) * len(holdout_rows) > 1:
        raise RecipeError(f"the ONNX export scores {onnx_results['model']:.4f} on the hold-out, torch {torch_accuracy:.4f}: not the same model")
    return onnx_results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default=str(WORK))
    p.add_argument("--model", default="distill/model.pt", help="the classifier to export, relative to --work")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--smoke", action="store_true", help="small vocabularies: quantize embeddings of 64+ rows")
    args = p.parse_args()
    recipe, log, work, out = load_recipe(), logger(), Path(args.work), Path(args.out)
    vocab = read_vocab(work / "vocab.txt")
    tok = WordPieceTokenizer(vocab, recipe["max_length"])
    model = load_classifier_state(work / args.model, recipe, vocab)
    disc, _, embedding_size = configs(len(vocab), recipe["model"], recipe["generator"])

    export_model_folder(model, disc, tok, out)
    config = json.loads((out / "config.json").read_text())
    _write_json(out / "config.json", {**config, "embedding_size": embedding_size})
    import onnx

    onnx.checker.check_model(str(out / "onnx" / "model.onnx"))
    quantize = ["--min-embedding-rows", "64"] if args.smoke else []
    log(run_tool(["models/tools/quantize-cli.ts", str(out / "onnx" / "model.onnx"), str(out / "onnx" / "model_quantized.onnx"), *quantize], "quantization"))

    _, holdout_rows = sst2_split(recipe, SMOKE_ROWS if args.smoke else None)
    torch_accuracy = accuracy(model, encode_rows(tok, holdout_rows), tok)
    onnx_results = onnx_holdout_check(out, holdout_rows, torch_accuracy, log)
    saved = torch.load(work / args.model)
    report_path = work / Path(args.model).parent / "report.json"
    training = json.loads(report_path.read_text()) if report_path.is_file() else {}
    _write_json(out / "training_report.json", {
        **training, "exported_from": {"model": args.model, "best_step": saved.get("best_step")},
        "export_check_holdout": {"torch": round(torch_accuracy, 4), **{k: round(v, 4) for k, v in onnx_results.items()}},
        "parameters": sum(p.numel() for p in model.parameters()),
    })
    log(f"wrote {out}: hold-out torch {torch_accuracy:.4f}, ONNX fp32 {onnx_results['model']:.4f}, int8 {onnx_results['model_quantized']:.4f}")


if __name__ == "__main__":
    main_guard(main)
