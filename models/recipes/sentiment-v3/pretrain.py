"""ELECTRA pretraining on the IMDB + SST-2-train windows, checkpointed and resumed exactly.

Usage: python3 pretrain.py [--work DIR] [--smoke] [--stop-at STEP] [--threads N]
Resumes from WORK/pretrain/checkpoint.pt (model, optimizer, schedule, step, RNG, data position), else from the
committed fp16 snapshot in checkpoints/ (see snapshot.py), else starts at step 0 from GloVe (and says so).
A checkpoint is written every pretrain.checkpoint_seconds (temporary file + rename), on SIGTERM/SIGINT, at
--stop-at and at the end; at the end the discriminator is also saved as WORK/pretrain/discriminator.pt.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

from common import HERE, WORK, RecipeError, atomic_save, load_recipe, logger, main_guard
from corpus import Corpus, read_vocab
from data import pad
from electra import Electra, configs
from glove import init_matrix, load_subset
from snapshot import read_snapshot
from training import _optimizer, _update, mask_tokens
from wordpiece import WordPieceTokenizer

SMOKE = {"batch_size": 8, "total_steps": 6, "log_every": 1, "checkpoint_seconds": 3600}
TUNING_ONLY = ("log_every", "checkpoint_seconds", "threads")  # may change between runs without breaking a resume


def epoch_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """The batches of one epoch, a pure function of (seed, epoch): shuffled, length-sorted in chunks, reshuffled."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    chunk, batches = batch_size * 50, []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[j : j + batch_size] for j in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def fingerprint(recipe: dict, hp: dict, vocab: list[str], corpus: Corpus) -> dict:
    """What a checkpoint must match to be resumed: recipe sections (GloVe's initialisation too), seed, vocabulary and corpus."""
    return {"seed": recipe["seed"], "model": recipe["model"], "generator": recipe["generator"], "glove": recipe["glove"],
            "pretrain": {k: v for k, v in hp.items() if k not in TUNING_ONLY},
            "vocab_sha256": hashlib.sha256("\n".join(vocab).encode()).hexdigest(), "corpus_sha256": corpus.info["sha256"]}


def check_fingerprint(saved: dict, expected: dict, where: Path) -> None:
    diff = [k for k in expected if saved.get(k) != expected[k]]
    if diff:
        raise RecipeError(f"{where} was trained with another {', '.join(diff)}: restore the recipe it was made with, or move it away to start over")


def build(recipe: dict, vocab: list[str]) -> Electra:
    disc, gen, embedding_size = configs(len(vocab), recipe["model"], recipe["generator"])
    return Electra(disc, gen, embedding_size)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default=str(WORK))
    p.add_argument("--snapshot", help="fp16 snapshot to resume from when WORK has no checkpoint (default: checkpoints/, not with --smoke)")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--stop-at", type=int, help="save a checkpoint and stop at this step (for tests and timing)")
    p.add_argument("--threads", type=int)
    args = p.parse_args()
    if args.snapshot is None and not args.smoke:
        args.snapshot = str(HERE / "checkpoints")
    recipe, log = load_recipe(), logger()
    hp = {**recipe["pretrain"], **(SMOKE if args.smoke else {})}
    torch.set_num_threads(args.threads or hp["threads"])
    work = Path(args.work)
    vocab = read_vocab(work / "vocab.txt")
    tok = WordPieceTokenizer(vocab, recipe["max_length"])
    corpus = Corpus(work / "corpus")
    lengths = np.diff(corpus.offsets)
    expected = fingerprint(recipe, hp, vocab, corpus)
    ckpt_path, out = work / "pretrain" / "checkpoint.pt", work / "pretrain"
    total, seed = hp["total_steps"], recipe["seed"]

    torch.manual_seed(seed)
    model = build(recipe, vocab)
    warmup_ratio = hp["warmup_steps"] / total
    opt, schedule = _optimizer(model, hp["lr"], total, warmup_ratio, hp["weight_decay"])
    sampler = torch.Generator().manual_seed(seed)
    state = {"step": 0, "epoch": 0, "batch": 0, "curve": [], "cpu_seconds": 0.0, "wall_seconds": 0.0, "resumed_from": [],
             "glove_init": None}
    if ckpt_path.is_file():
        try:
            saved = torch.load(ckpt_path)
        except Exception as e:  # a torn or foreign file: say so, never start over silently
            raise RecipeError(f"{ckpt_path} is unreadable ({type(e).__name__}): move it away and run again to resume from {args.snapshot}")
        source = str(ckpt_path)
    elif args.snapshot and (Path(args.snapshot) / "manifest.json").is_file():
        saved = read_snapshot(Path(args.snapshot), model, opt, lambda f: check_fingerprint(f, expected, Path(args.snapshot)))
        source = f"{args.snapshot} (fp16 snapshot: weights and Adam moments rounded to fp16)"
    else:
        saved, source = None, None
    if saved is not None:
        check_fingerprint(saved["fingerprint"], expected, Path(source.split(" ")[0]))
        if "model" in saved:
            model.load_state_dict(saved["model"])
            opt.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        torch.set_rng_state(saved["torch_rng"])
        sampler.set_state(saved["sampler_rng"])
        state = {k: saved.get(k, state[k]) for k in state}
        state["resumed_from"] = state["resumed_from"] + [{"step": state["step"], "from": source}]
        log(f"resumed at step {state['step']}/{total} (epoch {state['epoch']}, batch {state['batch']}) from {source}")
    else:
        glove = load_subset(work / "glove", recipe["glove"]["dim"])
        matrix, counts = init_matrix(vocab, glove, recipe["glove"]["init_std"], seed, recipe["glove"]["dim"])
        with torch.no_grad():
            model.shared.word_embeddings.weight.copy_(torch.from_numpy(matrix))
        state["glove_init"] = counts
        log(f"no checkpoint in {out} or {args.snapshot or 'a snapshot (none with --smoke)'}: starting at step 0; word embeddings from GloVe: {counts}")
    params = sum(p.numel() for p in model.parameters())
    disc_params = sum(p.numel() for p in model.discriminator.parameters())
    log(f"ELECTRA: {params:,} parameters ({disc_params:,} in the discriminator), {len(corpus):,} windows, {corpus.info['pieces']:,} pieces")

    def save(reason: str) -> None:
        atomic_save({"fingerprint": expected, "model": model.state_dict(), "optimizer": opt.state_dict(),
                     "schedule": schedule.state_dict(), "torch_rng": torch.get_rng_state(), "sampler_rng": sampler.get_state(),
                     **state}, ckpt_path)
        (out / "curve.json").write_text(json.dumps(state["curve"]) + "\n")
        log(f"checkpoint at step {state['step']} ({reason}): {ckpt_path}")

    stop = {"signal": None}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: stop.update(signal=signal.Signals(s).name))
    batches = epoch_batches(lengths, hp["batch_size"], seed, state["epoch"])
    last_save, window = time.time(), {"mlm": 0.0, "disc": 0.0, "gen_acc": 0.0, "disc_acc": 0.0, "disc_auc": 0.0, "tokens": 0, "n": 0, "t": time.time()}
    cpu0, wall0 = time.process_time(), time.time()
    model.train()
    while state["step"] < total and state["step"] != args.stop_at:
        if state["batch"] >= len(batches):
            state["epoch"], state["batch"] = state["epoch"] + 1, 0
            batches = epoch_batches(lengths, hp["batch_size"], seed, state["epoch"])
        idx = batches[state["batch"]]
        ids, attention = pad([[tok.cls_id, *corpus.window(i).tolist(), tok.sep_id] for i in idx], tok.pad_id)
        corrupted, chosen, _ = mask_tokens(ids, attention, tok, hp["mask_rate"], sampler)
        mlm, disc, stats = model(ids, attention, corrupted, chosen, sampler)
        _update(model, opt, schedule, mlm + hp["discriminator_weight"] * disc)
        state["step"], state["batch"] = state["step"] + 1, state["batch"] + 1
        for k, v in (("mlm", mlm.item()), ("disc", disc.item()), ("gen_acc", stats["gen_acc"]), ("disc_acc", stats["disc_acc"]),
                     ("disc_auc", stats["disc_auc"])):
            window[k] += v
        window["tokens"], window["n"] = window["tokens"] + stats["tokens"], window["n"] + 1
        now = time.time()
        state["cpu_seconds"] += time.process_time() - cpu0
        state["wall_seconds"] += now - wall0
        cpu0, wall0 = time.process_time(), now
        if state["step"] % hp["log_every"] == 0 or state["step"] == total:
            n, dt = window["n"], now - window["t"]
            point = {"step": state["step"], **{k: round(window[k] / n, 4) for k in ("mlm", "disc", "gen_acc", "disc_acc", "disc_auc")},
                     "lr": schedule.get_last_lr()[0], "s_per_step": round(dt / n, 3), "tokens_per_s": round(window["tokens"] / dt),
                     "epoch": state["epoch"], "wall_seconds": round(state["wall_seconds"])}
            state["curve"].append(point)
            log(f"step {state['step']}/{total} mlm {point['mlm']:.3f} disc {point['disc']:.4f} gen_acc {point['gen_acc']:.3f} "
                f"disc_acc {point['disc_acc']:.3f} disc_auc {point['disc_auc']:.3f} {point['s_per_step']:.2f} s/step {point['tokens_per_s']} tok/s")
            window = {"mlm": 0.0, "disc": 0.0, "gen_acc": 0.0, "disc_acc": 0.0, "disc_auc": 0.0, "tokens": 0, "n": 0, "t": now}
        if stop["signal"]:
            save(f"stopped by {stop['signal']}")
            print(f"stopped at step {state['step']}/{total}: run the same command again to resume", file=sys.stderr)
            sys.exit(3)
        if now - last_save >= hp["checkpoint_seconds"]:
            save("periodic")
            last_save = time.time()
    save("stop-at" if state["step"] != total else "done")
    if state["step"] == total:
        report = {k: state[k] for k in ("cpu_seconds", "wall_seconds", "resumed_from")}
        atomic_save({"encoder": model.discriminator.state_dict(), "vocab": vocab, "fingerprint": expected,
                     "report": {**report, "steps": total, "final": state["curve"][-1] if state["curve"] else None}},
                    out / "discriminator.pt")
        log(f"pretraining done: {out / 'discriminator.pt'}")


if __name__ == "__main__":
    main_guard(main)
