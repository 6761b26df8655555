"""A teacher of another architecture: a BiLSTM over GloVe word vectors, trained on SST-2's training split.

Usage: python3 teacher_glove.py --out WORK/teacher-glove [--work WORK] [--smoke]
Words are BERT's normalized, pre-tokenized words (the same text the WordPiece models see); the word table holds
every word of the training split plus every GloVe word of the pretraining corpus (GloVe vectors, fine-tuned with a
small learning rate; other words start random). Max- and mean-pooled BiLSTM states feed a linear classifier. The
v2 hold-out is measured evals_per_epoch times an epoch and the best state is kept (never dev.tsv).
Writes model.pt (state, word list, settings) and report.json.
With --logits-rows ROWS.tsv --logits-out F32 it instead scores a TSV (header, text first) with the saved model and
writes float32 logits, two per row, in the format v2's train.py --teacher-logits reads.
"""
from __future__ import annotations

import argparse
import collections
import json
import platform
import random
import time
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

from common import WORK, RecipeError, atomic_save, load_recipe, logger, main_guard, read_tsv, sst2_split
from data import bucketed_batches, pad
from glove import CLITICS, load_subset, word_rows
from training import accuracy
from wordpiece import normalize, pre_tokenize

SMOKE = {"rows": 400, "max_steps": 12, "evals_per_epoch": 1}
PAD, UNK = 0, 1


class BiLSTMClassifier(nn.Module):
    def __init__(self, words: int, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.embed = nn.Embedding(words, dim, padding_idx=PAD, sparse=True)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(4 * hidden, 2)

    def forward(self, ids: torch.Tensor, attention: torch.Tensor, _token_types=None) -> torch.Tensor:
        """Same call as the BERT models (training.accuracy scores either)."""
        lengths = attention.sum(1).clamp(min=1)
        packed = nn.utils.rnn.pack_padded_sequence(self.dropout(self.embed(ids)), lengths, batch_first=True, enforce_sorted=False)
        states, _ = self.lstm(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(states, batch_first=True, total_length=ids.shape[1])
        mask = attention[:, :, None].bool()
        pooled_max = states.masked_fill(~mask, -1e4).max(1).values
        pooled_mean = (states * mask).sum(1) / lengths[:, None]
        return self.classifier(self.dropout(torch.cat([pooled_max, pooled_mean], -1)))


class WordIds:
    """The teacher's word table; `ids` maps a sentence to word ids (unknown words to UNK)."""

    def __init__(self, words: list[str]):
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}

    def ids(self, text: str) -> list[int]:
        return [self.index.get(w, UNK) for w in pre_tokenize(normalize(text))] or [UNK]


def optimizer_step(loss, dense: list, optimizers: tuple) -> None:
    """One update of a BiLSTM's two optimisers (Adam on the dense layers, SparseAdam on the word table)."""
    for opt in optimizers:
        opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(dense, 5.0)
    for opt in optimizers:
        opt.step()


def load_teacher(folder: Path) -> tuple[BiLSTMClassifier, WordIds]:
    path = folder / "model.pt"
    if not path.is_file():
        raise RecipeError(f"GloVe teacher not found: {path} (run: bash models/recipes/sentiment-v3/run.sh teacher-glove)")
    saved = torch.load(path)
    hp = saved["settings"]
    model = BiLSTMClassifier(len(saved["words"]), saved["dim"], hp["hidden_size"], hp["dropout"])
    model.load_state_dict(saved["state"])
    return model.eval(), WordIds(saved["words"])


@torch.no_grad()
def write_logits(folder: Path, rows: Path, out: Path, log) -> None:
    model, words = load_teacher(folder)
    texts = [t for t, _ in read_tsv(rows)]
    chunks = []
    for start in range(0, len(texts), 256):
        ids, attention = pad([words.ids(t) for t in texts[start : start + 256]], PAD)
        chunks.append(model(ids, attention))
    logits = torch.cat(chunks).float().contiguous()
    out.write_bytes(logits.numpy().tobytes())
    log(f"wrote {out}: logits of {len(texts)} rows from {folder}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="folder to write the teacher to")
    p.add_argument("--work", default=str(WORK))
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--threads", type=int)
    p.add_argument("--seed", type=int, help="seed of weights, word-table init and batch order (default: recipe.json's teacher_glove.seed)")
    p.add_argument("--logits-rows", help="score this TSV with the teacher in --out instead of training")
    p.add_argument("--logits-out", help="with --logits-rows: the float32 file to write")
    args = p.parse_args()
    recipe, log = load_recipe(), logger()
    if not args.out:
        raise RecipeError("--out is required (the teacher's folder)")
    if args.logits_rows:
        torch.set_num_threads(args.threads or 1)
        return write_logits(Path(args.out), Path(args.logits_rows), Path(args.logits_out or "logits.f32"), log)
    hp = {**recipe["teacher_glove"], **(SMOKE if args.smoke else {}), **({"seed": args.seed} if args.seed is not None else {})}
    torch.set_num_threads(args.threads or hp["threads"])
    started, cpu0 = time.time(), time.process_time()
    train_rows, holdout_rows = sst2_split(recipe, SMOKE["rows"] if args.smoke else None)
    glove = load_subset(Path(args.work) / "glove", recipe["glove"]["dim"])
    counts = collections.Counter(w for text, _ in train_rows for w in pre_tokenize(normalize(text)))
    words = WordIds(["[PAD]", "[UNK]"] + sorted(set(counts) | set(glove)))
    table, from_glove = word_rows(words.words, glove, recipe["glove"]["dim"], hp["seed"])
    log(f"{len(train_rows)} training rows, {len(holdout_rows)} held-out sentences; word table {len(words.words):,} "
        f"({from_glove:,} from GloVe; {sum(1 for w in counts if CLITICS.get(w, w) not in glove):,} training words without a vector)")

    torch.manual_seed(hp["seed"])
    model = BiLSTMClassifier(len(words.words), recipe["glove"]["dim"], hp["hidden_size"], hp["dropout"])
    with torch.no_grad():
        model.embed.weight.copy_(torch.from_numpy(table))
    dense = [p for n, p in model.named_parameters() if not n.startswith("embed.")]
    opt_dense = torch.optim.Adam(dense, lr=hp["lr"])
    opt_embed = torch.optim.SparseAdam(list(model.embed.parameters()), lr=hp["embedding_lr"])
    train = [(words.ids(t), y) for t, y in train_rows]
    holdout = [(words.ids(t), y) for t, y in holdout_rows]
    steps_per_epoch = -(-len(train) // hp["batch_size"])
    total = hp.get("max_steps") or steps_per_epoch * hp["epochs"]
    eval_every = max(1, min(total, steps_per_epoch) // hp["evals_per_epoch"])
    batch_rng, step, best, curve = random.Random(hp["seed"]), 0, (-1.0, 0, None), []
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    while step < total:
        for batch in bucketed_batches(train, hp["batch_size"], batch_rng):
            ids, attention = pad([e[0] for e in batch], PAD)
            loss = loss_fn(model(ids, attention), torch.tensor([e[1] for e in batch]))
            optimizer_step(loss, dense, (opt_dense, opt_embed))
            step += 1
            if step % eval_every == 0 or step == total:
                acc = accuracy(model, holdout, SimpleNamespace(pad_id=PAD))
                curve.append({"step": step, "holdout_accuracy": round(acc, 4), "loss": round(loss.item(), 4)})
                log(f"step {step}/{total} loss {loss.item():.3f} holdout {acc:.4f}")
                if acc > best[0]:
                    best = (acc, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
            if step >= total:
                break
    acc, best_step, state = best
    out = Path(args.out)
    atomic_save({"state": state, "words": words.words, "settings": hp, "dim": recipe["glove"]["dim"]}, out / "model.pt")
    report = {"architecture": "BiLSTM over GloVe 6B 100d (max+mean pooling)", "smoke": args.smoke, "seed": hp["seed"],
              "holdout_accuracy": round(acc, 4), "best_step": best_step, "steps": total, "curve": curve,
              "rows": {"train": len(train), "holdout": len(holdout)}, "word_table": len(words.words), "from_glove": from_glove,
              "parameters": sum(p.numel() for p in model.parameters()), "wall_seconds": round(time.time() - started, 1),
              "cpu_seconds": round(time.process_time() - cpu0, 1),
              "machine": {"torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine()},
              "settings": hp}
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    log(f"GloVe BiLSTM teacher: hold-out accuracy {acc:.4f} at step {best_step}; wrote {out}")


if __name__ == "__main__":
    main_guard(main)
