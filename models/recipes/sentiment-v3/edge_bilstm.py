"""An edge-servable GloVe BiLSTM (issue 11, after v3): IMDB windows, then SST-2, then distillation from the teachers.

  python3 edge_bilstm.py imdb    --out WORK/edge-bilstm/imdb
  python3 edge_bilstm.py sst2    --out WORK/edge-bilstm/sst2 [--from WORK/edge-bilstm/imdb]
  python3 edge_bilstm.py distill --out WORK/edge-bilstm/distill --from F --teachers T1,T2,...
  (all take [--work WORK] [--smoke] [--seed N] [--threads N] [--stop-at STEP])

The model is teacher_glove.py's BiLSTM (max+mean pooling) over a word table that the serving engine's WordPiece
tokenizer can reproduce: [PAD] [UNK] [CLS] [SEP] and whole words only (no ## pieces), so a word outside the table is
[UNK] in training and in serving alike, and every sequence is [CLS] words [SEP] as the engine feeds it.
- imdb: IMDB train reviews' sentence windows (imdb-supervised/windows.npz, WordPiece pieces joined back into words),
  each labelled with its review's label; the 500 held-out reviews (whole, mean of their windows' logits) choose the
  best state.
- sst2: SST-2 training split (v2's hold-out never enters), from the imdb stage's weights or from GloVe alone.
- distill: the training split plus distill/sentences.tsv (the v3 distill stage's augmented sentences) with the mean
  logits of --teachers (BiLSTM folders with model.pt, scored here) as soft targets, v2's distillation loss.
Checkpoints every checkpoint_seconds and resumes bit-for-bit (batch order from the seed and epoch). dev.tsv and IMDB
test are never read.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from common import WORK, RecipeError, atomic_save, load_recipe, logger, main_guard, read_tsv, sst2_split
from corpus import read_vocab
from data import bucketed_batches, pad
from glove import load_subset, word_rows
from teacher_glove import BiLSTMClassifier, load_teacher, optimizer_step
from training import accuracy, distillation_loss
from wordpiece import normalize, pre_tokenize

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
PAD, UNK, CLS, SEP = 0, 1, 2, 3
SMOKE = {"rows": 400, "max_steps": 12, "evals_per_epoch": 1}


class EdgeWords:
    """Whole-word table; `ids` is what the engine's WordPiece tokenizer gives for this table ([CLS] words [SEP])."""

    def __init__(self, words: list[str], max_length: int = 128):
        if words[: len(SPECIALS)] != SPECIALS:
            raise RecipeError("edge word table must start with " + " ".join(SPECIALS))
        self.words, self.max_length = words, max_length
        self.index = {w: i for i, w in enumerate(words)}

    def of_words(self, words: list[str]) -> list[int]:
        ids = [self.index.get(w, UNK) if len(w) <= 100 else UNK for w in words][: self.max_length - 2]
        return [CLS, *ids, SEP]

    def ids(self, text: str) -> list[int]:
        return self.of_words(pre_tokenize(normalize(text)))


def word_table(recipe: dict, work: Path, train_rows) -> tuple[EdgeWords, np.ndarray, int]:
    glove = load_subset(work / "glove", recipe["glove"]["dim"])
    counts = collections.Counter(w for text, _ in train_rows for w in pre_tokenize(normalize(text)))
    words = EdgeWords(SPECIALS + sorted((set(counts) | set(glove)) - set(SPECIALS)), recipe["max_length"])
    table, from_glove = word_rows(words.words, glove, recipe["glove"]["dim"], recipe["seed"])
    return words, table, from_glove


def imdb_examples(work: Path, words: EdgeWords, smoke: bool):
    """(train examples, validation windows with their review) from imdb-supervised/windows.npz, pieces joined to words."""
    path = work / "imdb-supervised" / "windows.npz"
    if not path.is_file():
        raise RecipeError(f"IMDB windows not found: {path} (run: bash models/recipes/sentiment-v3/run.sh imdb-supervised)")
    vocab = read_vocab(work / "vocab.txt")
    with np.load(path) as z:
        ids, offsets, labels, review, held = z["ids"], z["offsets"], z["labels"], z["review"], z["held"]
    is_piece = np.array([t.startswith("##") for t in vocab])
    train, validation = [], []
    count = len(labels) if not smoke else 300
    for i in range(count):
        pieces = ids[offsets[i] : offsets[i + 1]]
        joined: list[str] = []
        for p in pieces.tolist():
            t = vocab[p]
            if is_piece[p] and joined:
                joined[-1] += t[2:]
            else:
                joined.append(t)
        example = (words.of_words(joined), int(labels[i]))
        (validation if held[review[i]] else train).append((*example, int(review[i])))
    return train, validation


@torch.no_grad()
def review_accuracy(model: nn.Module, windows: list) -> float:
    """Accuracy over held-out reviews, each scored by the mean of its windows' logits."""
    model.eval()
    sums: dict[int, torch.Tensor] = {}
    truth: dict[int, int] = {}
    for start in range(0, len(windows), 256):
        batch = windows[start : start + 256]
        ids, attention = pad([e[0] for e in batch], PAD)
        for e, row in zip(batch, model(ids, attention)):
            sums[e[2]] = sums.get(e[2], 0) + row.log_softmax(-1)
            truth[e[2]] = e[1]
    model.train()
    return sum(int(int(s.argmax()) == truth[r]) for r, s in sums.items()) / max(1, len(sums))


@torch.no_grad()
def teacher_soft_targets(work: Path, teachers: list[str], texts: list[str], train_count: int, log) -> torch.Tensor:
    """Mean logits of the teachers over texts (the training split, then the augmented sentences), [rows, 2].

    A teacher is a BiLSTM folder under work (teacher_glove.py's or this script's), scored here, or `distill:N`: the
    N-th teacher of the v3 distill stage, whose logits distill/teacher-logits.pt already holds for the same texts."""
    total = torch.zeros(len(texts), 2)
    for teacher in teachers:
        if teacher.startswith("distill:"):
            saved = torch.load(work / "distill" / "teacher-logits.pt")["logits"]
            n = int(teacher.split(":", 1)[1])
            cached = torch.cat([saved["train"][n], saved["augmented"][n]])
            if len(cached) != len(texts) or len(saved["train"][n]) != train_count:
                raise RecipeError(f"distill/teacher-logits.pt holds {len(cached)} rows, not these {len(texts)}")
            total += cached
            log(f"teacher {teacher}: logits from distill/teacher-logits.pt")
            continue
        folder = work / teacher
        model, table = load_any(folder)
        encoded = [table.ids(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), 256):
            rows = order[start : start + 256]
            ids, attention = pad([encoded[i] for i in rows], PAD)
            total[rows] += model(ids, attention).float()
        log(f"teacher {folder} scored {len(texts):,} rows")
    return total / len(teachers)


def load_any(folder: Path):
    saved = torch.load(folder / "model.pt")
    if saved.get("kind") == "edge-bilstm":
        hp = saved["settings"]
        model = BiLSTMClassifier(len(saved["words"]), saved["dim"], hp["hidden_size"], hp["dropout"])
        model.load_state_dict(saved["state"])
        return model.eval(), EdgeWords(saved["words"], saved["max_length"])
    return load_teacher(folder)


def train(model, examples, loss_of, evaluate, hp, out: Path, fingerprint: dict, stop_at: int | None, log):
    """Adam (dense) + SparseAdam (embeddings); best state by evaluate(); resumable from out/checkpoint.pt."""
    dense = [p for n, p in model.named_parameters() if not n.startswith("embed.")]
    opt_dense = torch.optim.Adam(dense, lr=hp["lr"])
    opt_embed = torch.optim.SparseAdam(list(model.embed.parameters()), lr=hp["embedding_lr"])
    steps_per_epoch = -(-len(examples) // hp["batch_size"])
    total = hp.get("max_steps") or steps_per_epoch * hp["epochs"]
    eval_every = max(1, min(total, steps_per_epoch) // hp["evals_per_epoch"])
    step, best, curve = 0, (-1.0, 0, None), []
    ckpt = out / "checkpoint.pt"
    if ckpt.is_file():
        try:
            saved = torch.load(ckpt, weights_only=False)
        except Exception as e:  # a torn file from a killed run
            raise RecipeError(f"{ckpt} is unreadable ({type(e).__name__}): delete it to start this stage again")
        if saved["fingerprint"] != fingerprint:
            raise RecipeError(f"{ckpt} was made with other settings or data: delete it to start this stage again")
        model.load_state_dict(saved["model"])
        opt_dense.load_state_dict(saved["opt_dense"])
        opt_embed.load_state_dict(saved["opt_embed"])
        step, best, curve = saved["step"], saved["best"], saved["curve"]
        torch.set_rng_state(saved["torch_rng"])
        log(f"resumed from {ckpt} at step {step}")
    last_save = time.time()
    model.train()
    while step < total:
        epoch, skip = divmod(step, steps_per_epoch)
        batches = bucketed_batches(examples, hp["batch_size"], random.Random(hp["seed"] * 1000 + epoch))
        for batch in batches[skip:]:
            ids, attention = pad([e[0] for e in batch], PAD)
            loss = loss_of(model(ids, attention), batch)
            optimizer_step(loss, dense, (opt_dense, opt_embed))
            step += 1
            if step % eval_every == 0 or step == total:
                score = evaluate(model)
                curve.append({"step": step, "score": round(score, 4), "loss": round(loss.item(), 4)})
                log(f"step {step}/{total} loss {loss.item():.3f} score {score:.4f}")
                if score > best[0]:
                    best = (score, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
            stopping = step >= total or (stop_at is not None and step >= stop_at)
            if stopping or time.time() - last_save > hp["checkpoint_seconds"]:
                atomic_save({"fingerprint": fingerprint, "model": model.state_dict(), "opt_dense": opt_dense.state_dict(),
                             "opt_embed": opt_embed.state_dict(), "step": step, "best": best, "curve": curve,
                             "torch_rng": torch.get_rng_state()}, ckpt)
                last_save = time.time()
            if stopping:
                break
        if stop_at is not None and step >= stop_at and step < total:
            log(f"stopped at step {step} (--stop-at); run again to resume")
            return None
    return {"score": best[0], "best_step": best[1], "state": best[2], "steps": total, "curve": curve}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stage", choices=["imdb", "sst2", "distill"])
    p.add_argument("--out", required=True)
    p.add_argument("--from", dest="start", help="a folder with this script's model.pt to start from")
    p.add_argument("--teachers", help="distill: comma-separated teacher folders (relative to --work)")
    p.add_argument("--work", default=str(WORK))
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--stop-at", type=int)
    args = p.parse_args()
    recipe, log, work, out = load_recipe(), logger(), Path(args.work), Path(args.out)
    if (out / "model.pt").is_file():
        print(f"== edge_bilstm {args.stage}: {out / 'model.pt'} exists, skipped")
        return
    section = recipe["edge_bilstm"]
    hp = {**section["settings"], **section["stages"][args.stage], **(SMOKE if args.smoke else {})}
    if args.seed is not None:
        hp["seed"] = args.seed
    if args.epochs:
        hp["epochs"] = args.epochs
    torch.set_num_threads(args.threads or hp["threads"])
    started, cpu0 = time.time(), time.process_time()
    train_rows, holdout_rows = sst2_split(recipe, SMOKE["rows"] if args.smoke else None)
    words, table, from_glove = word_table(recipe, work, train_rows)
    torch.manual_seed(hp["seed"])
    model = BiLSTMClassifier(len(words.words), recipe["glove"]["dim"], hp["hidden_size"], hp["dropout"])
    with torch.no_grad():
        model.embed.weight.copy_(torch.from_numpy(table))
    source = None
    if args.start:
        start_model, start_words = load_any(Path(args.start))
        if start_words.words != words.words:
            raise RecipeError(f"{args.start} has another word table than this stage builds")
        model.load_state_dict(start_model.state_dict())
        source = str(Path(args.start).resolve().relative_to(work.resolve())) if Path(args.start).resolve().is_relative_to(work.resolve()) else args.start
    holdout = [(words.ids(t), y) for t, y in holdout_rows]
    holdout_score = lambda m: accuracy(m, holdout, SimpleNamespace(pad_id=PAD))
    ce = nn.CrossEntropyLoss()
    hard_loss = lambda logits, batch: ce(logits, torch.tensor([e[1] for e in batch]))
    teachers = []
    if args.stage == "imdb":
        examples, validation = imdb_examples(work, words, args.smoke)
        evaluate, loss_of, selected_by = (lambda m: review_accuracy(m, validation)), hard_loss, "imdb_validation_reviews"
        log(f"IMDB: {len(examples):,} training windows, {len(validation):,} windows of held-out reviews")
    elif args.stage == "sst2":
        examples = [(words.ids(t), y, i) for i, (t, y) in enumerate(train_rows)]
        evaluate, loss_of, selected_by = holdout_score, hard_loss, "sst2_holdout"
    else:
        if not args.teachers:
            raise RecipeError("distill needs --teachers (comma-separated teacher folders under --work)")
        teachers = [t.strip() for t in args.teachers.split(",") if t.strip()]
        sentences_path = work / "distill" / "sentences.tsv"
        if not sentences_path.is_file():
            raise RecipeError(f"{sentences_path} not found (run: bash models/recipes/sentiment-v3/run.sh distill)")
        sentences = [t for t, _ in read_tsv(sentences_path)][: 200 if args.smoke else None]
        texts = [t for t, _ in train_rows] + sentences
        soft_path = out / "soft-targets.pt"
        key = {"teachers": teachers, "rows": len(texts)}
        if soft_path.is_file() and torch.load(soft_path)["key"] == key:
            soft = torch.load(soft_path)["soft"]
        else:
            soft = teacher_soft_targets(work, teachers, texts, len(train_rows), log)
            atomic_save({"key": key, "soft": soft}, soft_path)
        labels = [y for _, y in train_rows] + [int(soft[len(train_rows) + j].argmax()) for j in range(len(sentences))]
        examples = [(words.ids(t), labels[i], i) for i, t in enumerate(texts)]
        dhp = {"temperature": hp["temperature"], "alpha": hp["alpha"]}
        loss_of = lambda logits, batch: distillation_loss(logits, torch.tensor([e[1] for e in batch]), soft[[e[2] for e in batch]], dhp)
        evaluate, selected_by = holdout_score, "sst2_holdout"
    log(f"{args.stage}: {len(examples):,} examples; word table {len(words.words):,} ({from_glove:,} from GloVe); from {source}")
    fingerprint = {"stage": args.stage, "settings": hp, "source": source, "teachers": teachers, "examples": len(examples),
                   "words": len(words.words), "smoke": args.smoke}
    out.mkdir(parents=True, exist_ok=True)
    done = train(model, examples, loss_of, evaluate, hp, out, fingerprint, args.stop_at, log)
    if done is None:
        return
    model.load_state_dict(done["state"])
    final_holdout = holdout_score(model)
    atomic_save({"kind": "edge-bilstm", "state": done["state"], "words": words.words, "settings": hp,
                 "dim": recipe["glove"]["dim"], "max_length": recipe["max_length"]}, out / "model.pt")
    report = {"stage": args.stage, "architecture": "BiLSTM over GloVe 6B 100d (max+mean pooling), whole-word table",
              "selected_by": selected_by, "best_score": round(done["score"], 4), "best_step": done["best_step"],
              "sst2_holdout_accuracy": round(final_holdout, 4), "steps": done["steps"], "curve": done["curve"],
              "source": source, "teachers": teachers, "examples": len(examples), "word_table": len(words.words),
              "from_glove": from_glove, "parameters": sum(p.numel() for p in model.parameters()),
              "wall_seconds": round(time.time() - started, 1), "cpu_seconds": round(time.process_time() - cpu0, 1),
              "settings": hp, "smoke": args.smoke}
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "checkpoint.pt").unlink(missing_ok=True)
    log(f"edge BiLSTM {args.stage}: {selected_by} {done['score']:.4f} at step {done['best_step']}, "
        f"SST-2 hold-out {final_holdout:.4f}; wrote {out}")


if __name__ == "__main__":
    main_guard(main)
