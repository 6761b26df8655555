"""The discriminator of a v3 pretraining checkpoint as a transformers.js feature-extraction model folder.

Usage: python3 export_encoder.py --checkpoint C --layers K --out models/electra-imdb-small [--no-quantize] [--no-check]
C is a pretraining checkpoint (WORK/pretrain/checkpoint.pt: copy it first while pretraining runs, it is replaced
every 10 minutes), the discriminator.pt that pretraining writes at its end, or a committed fp16 snapshot folder
(checkpoints/). Writes config.json (BertModel, K layers), tokenizer.json, tokenizer_config.json, vocab.txt,
special_tokens_map.json, onnx/model.onnx (fp32: input_ids, attention_mask, token_type_ids int64 [batch, seq] ->
last_hidden_state float32 [batch, seq, 192], the hidden state after layer K), onnx/model_quantized.onnx (int8, by
models/tools/quantize-cli.ts, as v2) and export_report.json: the checkpoint's step and what check-encoder.ts
measured (onnxruntime-node: fp32 against torch, int8 against fp32, the TypeScript tokenizer against this one).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from common import HERE, REPO, RecipeError, load_recipe, logger, main_guard, sst2_split
from data import pad
from export import _write_json, tokenizer_config, tokenizer_json
from pretrain import build
from wordpiece import SPECIAL_TOKENS, WordPieceTokenizer

MAX_FILE_BYTES = 16_000_000
NAMES = ["input_ids", "attention_mask", "token_type_ids"]


class FeatureEncoder(nn.Module):
    """The discriminator's embeddings and its first `layers` layers; forward gives the hidden state after the last."""

    def __init__(self, discriminator: nn.Module, layers: int):
        super().__init__()
        if not 0 <= layers <= len(discriminator.layers):
            raise RecipeError(f"--layers must be 0..{len(discriminator.layers)}, not {layers}")
        self.embeddings = discriminator.embeddings
        self.layers = nn.ModuleList(discriminator.layers[:layers])

    def hidden_states(self, input_ids, attention_mask, token_type_ids) -> list[torch.Tensor]:
        """[projected embeddings, after layer 1, ..., after the last layer]."""
        additive_mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        states = [self.embeddings(input_ids, token_type_ids)]
        for layer in self.layers:
            states.append(layer(states[-1], additive_mask))
        return states

    def forward(self, input_ids, attention_mask, token_type_ids) -> torch.Tensor:
        return self.hidden_states(input_ids, attention_mask, token_type_ids)[-1]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_checkpoint(path: Path) -> tuple[dict, dict, str]:
    """(Electra or discriminator state dict, fingerprint, which) from a checkpoint file or an fp16 snapshot folder."""
    if path.is_dir():
        manifest = json.loads((path / "manifest.json").read_text())
        for name, meta in manifest["files"].items():
            if not (path / name).is_file() or _sha256(path / name) != meta["sha256"]:
                raise RecipeError(f"{path / name} is missing or does not match manifest.json")
        state = torch.load(path / "state.pt")
        w = torch.load(path / "weights.fp16.pt")
        weights = {**w["weights"], **{a: w["weights"][k] for a, k in w["aliases"].items()}}
        return {k: v.float() for k, v in weights.items()}, {**state["fingerprint"], "step": manifest["step"]}, "electra"
    if not path.is_file():
        raise RecipeError(f"no checkpoint at {path}")
    try:
        saved = torch.load(path, map_location="cpu")
    except Exception as e:  # a torn copy: say so in one line
        raise RecipeError(f"{path} is unreadable ({type(e).__name__}): copy the checkpoint again")
    if "model" in saved:
        return saved["model"], {**saved["fingerprint"], "step": saved["step"]}, "electra"
    if "encoder" in saved:
        return saved["encoder"], {**saved["fingerprint"], "step": saved["report"]["steps"]}, "discriminator"
    raise RecipeError(f"{path} is neither a pretraining checkpoint nor a discriminator.pt")


def load_discriminator(path: Path, recipe: dict, vocab: list[str]) -> tuple[nn.Module, int]:
    """The discriminator (eval mode) of a checkpoint made with this recipe and vocabulary, and its step."""
    weights, fp, which = _read_checkpoint(path)
    if fp.get("model") != recipe["model"]:
        raise RecipeError(f"{path} was trained with another model section than recipe.json's")
    if fp.get("vocab_sha256") != hashlib.sha256("\n".join(vocab).encode()).hexdigest():
        raise RecipeError(f"{path} was trained with another vocabulary than the one given")
    model = build(recipe, vocab)
    if which == "electra":
        model.load_state_dict(weights)
    else:
        model.discriminator.load_state_dict(weights)
    model.eval()
    return model.discriminator, int(fp["step"])


def model_config(recipe: dict, vocab_size: int, layers: int, step: int) -> dict:
    m = dict(recipe["model"])
    embedding_size = m.pop("embedding_size")
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": vocab_size,
        **m,
        "num_hidden_layers": layers,
        "embedding_size": embedding_size,
        "type_vocab_size": 2,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "layer_norm_eps": 1e-12,
        "initializer_range": 0.02,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "pretraining": {"objective": "electra-discriminator", "step": step,
                        "total_steps": recipe["pretrain"]["total_steps"], "layers_of_checkpoint": recipe["model"]["num_hidden_layers"]},
    }


def check_sentences(recipe: dict, count: int = 48) -> list[str]:
    """Training-split sentences of every length (never the hold-out, never dev), and one longer than 128 pieces."""
    train, _ = sst2_split(recipe)
    texts = sorted({t for t, _ in train}, key=len)
    rng = np.random.default_rng(recipe["seed"])
    picked = [texts[i] for i in sorted(rng.choice(len(texts), count, replace=False))]
    return picked + [" ".join(texts[-12:])]


def write_folder(encoder: FeatureEncoder, recipe: dict, tok: WordPieceTokenizer, step: int, out: Path) -> None:
    (out / "onnx").mkdir(parents=True, exist_ok=True)
    _write_json(out / "config.json", model_config(recipe, len(tok.vocab), len(encoder.layers), step))
    _write_json(out / "tokenizer.json", tokenizer_json(tok))
    _write_json(out / "tokenizer_config.json", tokenizer_config(tok.max_length))
    _write_json(out / "special_tokens_map.json", {t.strip("[]").lower() + "_token": t for t in SPECIAL_TOKENS})
    (out / "vocab.txt").write_text("\n".join(tok.vocab) + "\n", encoding="utf-8")
    sample = torch.tensor([tok.encode("a sample sentence for tracing .")] * 2)
    axes = {n: {0: "batch_size", 1: "sequence_length"} for n in [*NAMES, "last_hidden_state"]}
    with torch.no_grad():
        torch.onnx.export(encoder, (sample, torch.ones_like(sample), torch.zeros_like(sample)), str(out / "onnx" / "model.onnx"),
                          input_names=NAMES, output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=14,
                          do_constant_folding=True)
    import onnx

    onnx.checker.check_model(str(out / "onnx" / "model.onnx"))


def quantize(out: Path, log) -> None:
    cmd = ["npx", "tsx", "models/tools/quantize-cli.ts", str(out / "onnx" / "model.onnx"), str(out / "onnx" / "model_quantized.onnx")]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RecipeError(f"quantization failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    log(done.stdout.strip())


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float64)
    return (hidden * m).sum(1) / m.sum(1)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def check(encoder: FeatureEncoder, tok: WordPieceTokenizer, texts: list[str], out: Path, quantized: bool) -> dict:
    """Runs the ONNX files in onnxruntime-node (check-encoder.ts) on texts and compares with torch."""
    ids, mask = pad([tok.encode(t) for t in texts], tok.pad_id)
    with torch.no_grad():
        reference = encoder(ids, mask, torch.zeros_like(ids)).numpy()
    variants = ["model", *(["model_quantized"] if quantized else [])]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "input.json").write_text(json.dumps({"texts": texts, "ids": ids.tolist(), "attention_mask": mask.tolist()}))
        cmd = ["npx", "tsx", str(HERE / "check-encoder.ts"), "--folder", str(out), "--input", f"{tmp}/input.json", "--out", tmp, *variants]
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            raise RecipeError(f"check-encoder.ts failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
        ts = json.loads(done.stdout.strip().splitlines()[-1])
        got = {v: np.fromfile(f"{tmp}/{v}.f32", dtype=np.float32).reshape(reference.shape) for v in variants}
    real, m = mask.numpy().astype(bool), mask.numpy()
    pooled = {k: _mean_pool(v, m) for k, v in {"torch": reference, **got}.items()}

    def compare(a: str, b: str) -> dict:
        x, y = (reference if a == "torch" else got[a]), got[b]
        cos = _cosines(pooled[a], pooled[b])
        return {"max_abs_diff": float(np.abs(x - y)[real].max()), "mean_abs_diff": float(np.abs(x - y)[real].mean()),
                "mean_pooled_cosine_min": float(cos.min()), "mean_pooled_cosine_mean": float(cos.mean())}

    report = {"sentences": len(texts), "padded_shape": list(reference.shape), "tokenizer_ids_equal": ts["ids_equal"],
              "onnxruntime_node": ts["version"], "fp32_vs_torch": compare("torch", "model")}
    if quantized:
        report["int8_vs_fp32"] = compare("model", "model_quantized")
    return report


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help="checkpoint.pt (a copy), discriminator.pt, or an fp16 snapshot folder")
    p.add_argument("--layers", type=int, default=4, help="hidden state after this layer (0 = the projected embeddings)")
    p.add_argument("--out", default=str(REPO / "models" / "electra-imdb-small"))
    p.add_argument("--vocab", default=str(HERE / "checkpoints" / "vocab.txt"))
    p.add_argument("--no-quantize", action="store_true")
    p.add_argument("--no-check", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    log, recipe = logger(), load_recipe()
    vocab = Path(args.vocab).read_text(encoding="utf-8").rstrip("\n").split("\n")
    tok = WordPieceTokenizer(vocab, recipe["max_length"])
    discriminator, step = load_discriminator(Path(args.checkpoint), recipe, vocab)
    encoder = FeatureEncoder(discriminator, args.layers).eval()
    out = Path(args.out)
    shutil.rmtree(out / "onnx", ignore_errors=True)
    write_folder(encoder, recipe, tok, step, out)
    log(f"exported step {step}, hidden state after layer {args.layers}, to {out}")
    if not args.no_quantize:
        quantize(out, log)
    report = {"checkpoint_step": step, "layers": args.layers, "checkpoint": str(args.checkpoint),
              "bytes": {str(f.relative_to(out)): f.stat().st_size for f in sorted((out / "onnx").iterdir())}}
    if not args.no_check:
        report["check"] = check(encoder, tok, check_sentences(recipe), out, not args.no_quantize)
    _write_json(out / "export_report.json", {**report, "checkpoint": Path(args.checkpoint).name})
    big = [k for k, v in report["bytes"].items() if v >= MAX_FILE_BYTES]
    log(json.dumps(report))
    if big:
        log(f"warning: {', '.join(big)} over 16 MB: keep it out of git")


if __name__ == "__main__":
    main_guard(main)
