"""The supervised stages after pretraining: IMDB sentence windows, then SST-2, checkpointed and resumed exactly.

  python3 finetune.py imdb --work WORK [--from-checkpoint] [--smoke] [--stop-at STEP]
      the pretrained discriminator (pretrain/discriminator.pt; with --from-checkpoint the latest pretrain/checkpoint.pt)
      fine-tuned on IMDB `train` reviews cut into sentence windows, each labelled with its review's label
      (imdb_windows.py); 500 reviews held out whole choose the best state. Writes WORK/imdb-supervised/.
  python3 finetune.py sst2 --work WORK --from imdb|pretrained|glove|random [--from-checkpoint] [--smoke] [--stop-at STEP]
  (both also take --max-steps N, a step budget in place of recipe.json's, and --out DIR)
      fine-tuned on SST-2's training split (v2's split: its 1,000 held-out sentences and their phrases excluded);
      the hold-out is measured evals_per_epoch times an epoch and chooses the best state, as in v2. Writes
      WORK/finetune-sst2/<from>/. SST-2 dev.tsv and IMDB test are never read.
With --from-checkpoint the outputs get the suffix -from-checkpoint (a trial before pretraining ends; the real runs
are not skipped because of it). A stage whose report.json exists is skipped. OUT/checkpoint.pt is written every
checkpoint_seconds, on SIGTERM/SIGINT and at --stop-at (temporary file + rename) and holds the model, AdamW state,
schedule, step, data position, torch RNG, curve, best state and CPU seconds: a resume continues bit for bit and is
refused if the recipe, vocabulary, data or starting weights differ. Each stage ends with OUT/model.pt (the best
state) and OUT/report.json (the curve, CPU seconds), and removes its checkpoint.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import platform
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from classifier import (SOURCES, TRIAL_SUFFIX, apply_source, build_classifier, imdb_supervised_folder, source_identity,
                        vocab_sha256)
from common import WORK, RecipeError, atomic_save, load_recipe, logger, main_guard, sst2_split
from corpus import SMOKE_REVIEWS, SMOKE_ROWS, read_vocab
from data import encode_rows, pad
from imdb_windows import load_or_cut
from pretrain import epoch_batches
from training import _optimizer, _update, accuracy
from wordpiece import WordPieceTokenizer

SMOKE = {"max_steps": 6, "batch_size": 8, "evals_per_epoch": 2, "log_every": 1, "checkpoint_seconds": 3600}
SMOKE_IMDB = {"validation_reviews": 30, "every": 80}  # every 80th review: the file is sorted by label
TUNING_ONLY = ("log_every", "checkpoint_seconds", "threads", "comment", "extra_seeds")


@torch.no_grad()
def window_logits(model: nn.Module, examples: list, pad_id: int, batch_size: int = 256) -> torch.Tensor:
    model.eval()
    out = []
    for start in range(0, len(examples), batch_size):
        ids, attention = pad([e[0] for e in examples[start : start + batch_size]], pad_id)
        out.append(model(ids, attention, torch.zeros_like(ids)))
    model.train()
    return torch.cat(out)


def imdb_evaluator(validation: list, holdout: list, tok: WordPieceTokenizer):
    """IMDB hold-out accuracy per window and per review (mean of its windows' logits), and SST-2 hold-out accuracy."""
    validation = list(validation)
    labels = torch.tensor([e[1] for e in validation])
    reviews = torch.tensor([e[2] for e in validation])
    _, review_index = reviews.unique(return_inverse=True)

    def evaluate(model: nn.Module) -> dict:
        logits = window_logits(model, validation, tok.pad_id)
        per_review = torch.zeros(int(review_index.max()) + 1, 2).index_add_(0, review_index, logits)
        review_label = torch.zeros(len(per_review), dtype=torch.long).index_copy_(0, review_index, labels)
        return {"imdb_validation_accuracy": round(float((logits.argmax(1) == labels).float().mean()), 4),
                "imdb_validation_review_accuracy": round(float((per_review.argmax(1) == review_label).float().mean()), 4),
                "sst2_holdout_accuracy": round(accuracy(model, holdout, tok), 4)}

    return evaluate


def examples_sha256(*sets) -> str:
    """Of the token ids and labels a stage trains and chooses on: a resume with other data is refused."""
    h = hashlib.sha256()
    for examples in sets:
        for e in examples:
            h.update(np.asarray(e[0], dtype=np.int32).tobytes() + bytes([e[1], 255]))
    return h.hexdigest()


def train(model: nn.Module, train_set, evaluate, select: str, hp: dict, seed: int, fingerprint: dict, loaded: dict | None,
          out: Path, pad_id: int, stop_at: int | None, log, loss_of=None) -> dict | None:
    """Fine-tunes model in place, keeping the state that scores best on evaluate()[select].

    The loss is cross-entropy on each example's label unless loss_of(logits, batch) gives another (distillation).
    `loaded` says what apply_source put into model (None on a resume: the checkpoint says it). Returns the finished
    state {best, curve, ...}, or None when stopped at --stop-at (checkpoint saved).
    """
    ckpt = out / "checkpoint.pt"
    lengths = np.array([len(e[0]) for e in train_set], dtype=np.int64)
    steps_per_epoch = math.ceil(len(train_set) / hp["batch_size"])
    total = hp.get("max_steps") or steps_per_epoch * hp["epochs"]
    eval_every = max(1, min(total, steps_per_epoch) // hp["evals_per_epoch"])
    opt, schedule = _optimizer(model, hp["lr"], total, hp["warmup_ratio"], hp["weight_decay"])
    state = {"step": 0, "epoch": 0, "batch": 0, "curve": [], "log": [], "best": None, "best_step": 0, "best_score": -1.0,
             "cpu_seconds": 0.0, "eval_cpu_seconds": 0.0, "wall_seconds": 0.0, "resumed_from": [], "loaded": None}
    if ckpt.is_file():
        try:
            saved = torch.load(ckpt)
        except Exception as e:  # a torn or foreign file: say so, never start over silently
            raise RecipeError(f"{ckpt} is unreadable ({type(e).__name__}): move it away to start this stage over")
        diff = [k for k in fingerprint if saved["fingerprint"].get(k) != fingerprint[k]]
        if diff:
            raise RecipeError(f"{ckpt} was made with another {', '.join(diff)}: restore what it was made with, or move it away to start over")
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        torch.set_rng_state(saved["torch_rng"])
        state = {k: saved[k] for k in state}
        state["resumed_from"] = state["resumed_from"] + [state["step"]]
        log(f"resumed at step {state['step']}/{total} (epoch {state['epoch']}, batch {state['batch']}) from {ckpt}")
    else:
        state["loaded"] = loaded
        log(f"no checkpoint in {out}: starting at step 0 of {total} ({steps_per_epoch} steps an epoch, {len(train_set):,} examples)")

    def save(reason: str) -> None:
        atomic_save({"fingerprint": fingerprint, "model": model.state_dict(), "optimizer": opt.state_dict(),
                     "schedule": schedule.state_dict(), "torch_rng": torch.get_rng_state(), **state}, ckpt)
        log(f"checkpoint at step {state['step']} ({reason}): {ckpt}")

    stop = {"signal": None}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: stop.update(signal=signal.Signals(s).name))
    batches = epoch_batches(lengths, hp["batch_size"], seed, state["epoch"])
    loss_fn = nn.CrossEntropyLoss()
    last_save, losses, since_eval, t_log = time.time(), [], [], time.time()
    cpu0, wall0 = time.process_time(), time.time()
    model.train()
    while state["step"] < total and (stop_at is None or state["step"] < stop_at):
        if state["batch"] >= len(batches):
            state["epoch"], state["batch"] = state["epoch"] + 1, 0
            batches = epoch_batches(lengths, hp["batch_size"], seed, state["epoch"])
        batch = [train_set[i] for i in batches[state["batch"]]]
        ids, attention = pad([e[0] for e in batch], pad_id)
        logits = model(ids, attention, torch.zeros_like(ids))
        loss = loss_of(logits, batch) if loss_of else loss_fn(logits, torch.tensor([e[1] for e in batch]))
        _update(model, opt, schedule, loss)
        state["step"], state["batch"] = state["step"] + 1, state["batch"] + 1
        losses.append(loss.item())
        since_eval.append(loss.item())
        step = state["step"]
        state["cpu_seconds"] += time.process_time() - cpu0
        state["wall_seconds"] += time.time() - wall0
        cpu0, wall0 = time.process_time(), time.time()
        if step % hp["log_every"] == 0 or step == total:
            now = time.time()
            state["log"].append({"step": step, "loss": round(float(np.mean(losses)), 4), "s_per_step": round((now - t_log) / len(losses), 3)})
            log(f"step {step}/{total} loss {state['log'][-1]['loss']:.4f} {state['log'][-1]['s_per_step']:.2f} s/step")
            losses, t_log = [], now
        if step % eval_every == 0 or step == total:
            t_eval = time.time()
            scores = evaluate(model)
            t_log += time.time() - t_eval  # s_per_step is training alone
            state["eval_cpu_seconds"] += time.process_time() - cpu0
            state["cpu_seconds"] += time.process_time() - cpu0
            state["wall_seconds"] += time.time() - wall0
            cpu0, wall0 = time.process_time(), time.time()
            point = {"step": step, "epoch": round(step / steps_per_epoch, 3), **scores,
                     "train_loss": round(float(np.mean(since_eval)), 4), "lr": schedule.get_last_lr()[0],
                     "cpu_seconds": round(state["cpu_seconds"], 1)}
            state["curve"].append(point)
            since_eval = []
            log(" ".join(f"{k} {v}" for k, v in point.items()))
            if scores[select] > state["best_score"]:
                state["best_score"], state["best_step"] = scores[select], step
                state["best"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if stop["signal"]:
            save(f"stopped by {stop['signal']}")
            print(f"stopped at step {state['step']}/{total}: run the same command again to resume", file=sys.stderr)
            sys.exit(3)
        if time.time() - last_save >= hp["checkpoint_seconds"]:
            save("periodic")
            last_save = time.time()
    if state["step"] != total:
        save("stop-at")
        return None
    return {**state, "total": total, "steps_per_epoch": steps_per_epoch}


def finish(out: Path, model: nn.Module, done: dict, recipe: dict, vocab: list[str], report: dict, log) -> None:
    """OUT/model.pt (the best state) and OUT/report.json; then the checkpoint is no longer needed."""
    model.load_state_dict(done["best"])
    source = {**done["fingerprint_source"], **(done["loaded"] or {})}
    atomic_save({"state": done["best"], "model": recipe["model"], "vocab_sha256": vocab_sha256(vocab), "source": source,
                 "steps": done["total"], "best_step": done["best_step"]}, out / "model.pt")
    cpu = done["cpu_seconds"]
    full = {**report, "source": source, "steps": done["total"], "steps_per_epoch": done["steps_per_epoch"],
            "best_step": done["best_step"], "best": next(p for p in done["curve"] if p["step"] == done["best_step"]),
            "curve": done["curve"], "log": done["log"], "resumed_at_steps": done["resumed_from"],
            "cpu_seconds": round(cpu, 1), "eval_cpu_seconds": round(done["eval_cpu_seconds"], 1),
            "wall_seconds": round(done["wall_seconds"], 1),
            "train_cpu_seconds_per_step": round((cpu - done["eval_cpu_seconds"]) / done["total"], 3),
            "parameters": sum(p.numel() for p in model.parameters()),
            "machine": {"torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine()}}
    (out / "report.json").write_text(json.dumps(full, indent=2) + "\n")
    (out / "checkpoint.pt").unlink(missing_ok=True)
    log(f"best at step {done['best_step']}: {json.dumps(full['best'])}; wrote {out / 'model.pt'} and report.json")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stage", choices=["imdb", "sst2"])
    p.add_argument("--work", default=str(WORK))
    p.add_argument("--from", dest="source", choices=SOURCES, default="imdb", help="sst2: where fine-tuning starts")
    p.add_argument("--from-checkpoint", action="store_true",
                   help="start from the latest pretrain/checkpoint.pt instead of pretrain/discriminator.pt (a trial)")
    p.add_argument("--out", help="output folder (default WORK/imdb-supervised or WORK/finetune-sst2/<from>)")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--stop-at", type=int, help="save a checkpoint and stop at this step (for tests and timing)")
    p.add_argument("--max-steps", type=int, help="a step budget instead of recipe.json's (a short trial; part of the fingerprint)")
    p.add_argument("--threads", type=int)
    p.add_argument("--seed", type=int, help="seed of the head's init, dropout and batch order instead of the recipe's (another teacher)")
    args = p.parse_args()
    recipe, log, work = load_recipe(), logger(), Path(args.work)
    source = "pretrained" if args.stage == "imdb" else args.source
    trial = args.from_checkpoint and source in ("imdb", "pretrained")
    name = "imdb-supervised" if args.stage == "imdb" else "finetune-sst2"
    if args.out:
        out = Path(args.out)
    elif args.stage == "imdb":
        out = imdb_supervised_folder(work, trial)
    else:
        out = work / "finetune-sst2" / f"{source}{TRIAL_SUFFIX if trial else ''}"
    if (out / "report.json").is_file():
        print(f"== {name}: {out / 'report.json'} exists, skipped")
        return
    section = recipe["imdb_supervised" if args.stage == "imdb" else "finetune_sst2"]
    hp = {**section, **(SMOKE if args.smoke else {}), **(SMOKE_IMDB if args.smoke and args.stage == "imdb" else {})}
    if args.max_steps:
        hp["max_steps"] = args.max_steps
    if args.seed is not None:
        hp["seed"] = args.seed
    torch.set_num_threads(args.threads or hp["threads"])
    vocab = read_vocab(work / "vocab.txt")
    tok = WordPieceTokenizer(vocab, recipe["max_length"])
    identity = source_identity(source, work, recipe, trial)

    train_rows, holdout_rows = sst2_split(recipe, SMOKE_ROWS if args.smoke else None)
    holdout = encode_rows(tok, holdout_rows)
    data: dict = {"split": recipe["split"], "sst2_rows": len(train_rows), "sst2_holdout": len(holdout)}
    if args.stage == "imdb":
        key = {"vocab_sha256": vocab_sha256(vocab), "window_pieces": recipe["corpus"]["window_pieces"],
               "validation_reviews": hp["validation_reviews"], "validation_seed": hp["validation_seed"],
               "every": hp.get("every", 1), "limit": SMOKE_REVIEWS if args.smoke else None}
        windows = load_or_cut(out / "windows.npz", key, tok, recipe["corpus"]["window_pieces"], hp, hp.get("every", 1),
                              SMOKE_REVIEWS if args.smoke else None, log)
        train_set = windows.examples(False, tok.cls_id, tok.sep_id)
        evaluate, select = imdb_evaluator(windows.examples(True, tok.cls_id, tok.sep_id), holdout, tok), "imdb_validation_accuracy"
        data["imdb"] = windows.info
    else:
        train_set = encode_rows(tok, train_rows)
        evaluate, select = (lambda m: {"holdout_accuracy": round(accuracy(m, holdout, tok), 4)}), "holdout_accuracy"
    log(f"{name} from {source}{' (pretraining checkpoint: a trial)' if trial else ''}: {len(train_set):,} training examples; "
        f"SST-2 split {len(train_rows):,} rows / {len(holdout)} held out")

    seed = hp["seed"]
    torch.manual_seed(seed)
    model = build_classifier(recipe, vocab)
    ckpt = out / "checkpoint.pt"
    loaded = None if ckpt.is_file() else apply_source(model, identity, recipe, vocab)  # a resume takes its weights from the checkpoint
    data["sha256"] = examples_sha256(train_set, holdout)
    fingerprint = {"stage": name, "source": identity, "seed": seed, "model": recipe["model"], "max_length": recipe["max_length"],
                   "vocab_sha256": vocab_sha256(vocab), "data": data, "settings": {k: v for k, v in hp.items() if k not in TUNING_ONLY}}
    out.mkdir(parents=True, exist_ok=True)
    done = train(model, train_set, evaluate, select, hp, seed, fingerprint, loaded, out, tok.pad_id, args.stop_at, log)
    if done is None:
        return
    done["fingerprint_source"] = identity
    report = {"stage": name, "from": source, "trial_from_pretraining_checkpoint": trial, "smoke": args.smoke, "seed": seed,
              "selected_by": select, "data": data, "settings": hp}
    finish(out, model, done, recipe, vocab, report, log)


if __name__ == "__main__":
    main_guard(main)
