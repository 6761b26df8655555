"""Distillation (issue 11 item 3): the edge-sized v3 classifier learns from two teachers of different kinds.

  python3 distill.py --work WORK [--smoke] [--stop-at STEP] [--max-steps N] [--threads N]

1. Augmented sentences: v2's augment.py (word replacement and recombination of training rows, Tang et al. 2019)
   made from SST-2's training split (v2's split: the 1,000 held-out sentences never enter) -> WORK/distill/sentences.tsv.
2. The teachers (recipe.json distill.teachers) score the training split, the augmented sentences and the hold-out:
   `classifier` = a fine-tuned v3 classifier (finetune-sst2/imdb/model.pt), `bilstm` = the GloVe BiLSTM
   (teacher-glove/model.pt). Their mean logits are the soft targets -> WORK/distill/teacher-logits.pt (reused when
   its teachers and sentences are unchanged). The hold-out logits only report each teacher's and the ensemble's
   accuracy; they choose nothing.
3. The student starts from distill.student.from (a fine-tuned v3 classifier) and trains on the training split plus
   the augmented sentences (whose label is the ensemble's answer) with v2's distillation loss (Hinton et al.: hard-label
   cross-entropy mixed with KL to the teachers at temperature T), checkpointed and resumed as finetune.py's stages
   are; the hold-out chooses the best state. Writes WORK/distill/model.pt and report.json.
SST-2 dev.tsv and IMDB test are never read.
"""
from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import torch
from torch import nn

from classifier import build_classifier, file_sha256, vocab_sha256
from common import WORK, RecipeError, atomic_save, load_recipe, logger, main_guard, read_tsv, sst2_split
from corpus import SMOKE_ROWS, read_vocab
from data import encode_rows, pad
from finetune import TUNING_ONLY, examples_sha256, finish, train
from augment import augment
from teacher_glove import PAD as BILSTM_PAD, load_teacher as load_bilstm
from training import accuracy, distillation_loss
from wordpiece import WordPieceTokenizer

SMOKE = {"augmented_sentences": 200, "max_steps": 6, "batch_size": 8, "evals_per_epoch": 2, "log_every": 1,
         "checkpoint_seconds": 3600}


def load_classifier_state(path: Path, recipe: dict, vocab: list[str]) -> nn.Module:
    """A v3 classifier saved by finetune.py (or by this stage) as an eval-mode module."""
    if not path.is_file():
        raise RecipeError(f"no fine-tuned v3 classifier at {path} (run: bash models/recipes/sentiment-v3/run.sh finetune-sst2 --from imdb)")
    saved = torch.load(path)
    if saved.get("model") != recipe["model"] or saved.get("vocab_sha256") != vocab_sha256(vocab):
        raise RecipeError(f"{path} was trained with another model section or vocabulary than recipe.json's")
    model = build_classifier(recipe, vocab)
    model.load_state_dict(saved["state"])
    return model.eval()


@torch.no_grad()
def score(forward, encoded: list[list[int]], pad_id: int, batch_size: int = 256) -> torch.Tensor:
    """Logits of every sequence, batched by length (little padding), returned in the input order."""
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    out = torch.empty(len(encoded), 2)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        ids, attention = pad([encoded[i] for i in rows], pad_id)
        out[rows] = forward(ids, attention).float()
    return out


def teacher_file(work: Path, teacher: dict) -> Path:
    if teacher["kind"] not in ("classifier", "bilstm"):
        raise RecipeError(f"recipe.json distill.teachers: kind must be classifier or bilstm, not {teacher['kind']}")
    return work / teacher["path"] / "model.pt" if teacher["kind"] == "bilstm" else work / teacher["path"]


def teacher_logits(teachers: list[dict], work: Path, recipe: dict, vocab: list[str], tok: WordPieceTokenizer,
                   texts: dict[str, list[str]], log) -> dict[str, torch.Tensor]:
    """{set name: [teacher, row, 2] logits} for each text set."""
    result: dict[str, list[torch.Tensor]] = {name: [] for name in texts}
    for teacher in teachers:
        if teacher["kind"] == "classifier":
            model = load_classifier_state(teacher_file(work, teacher), recipe, vocab)
            forward = lambda ids, attention, m=model: m(ids, attention, torch.zeros_like(ids))
            encode, pad_id = tok.encode, tok.pad_id
        else:
            model, words = load_bilstm(work / teacher["path"])
            forward, encode, pad_id = (lambda ids, attention, m=model: m(ids, attention)), words.ids, BILSTM_PAD
        for name, rows in texts.items():
            started = time.process_time()
            result[name].append(score(forward, [encode(t) for t in rows], pad_id))
            log(f"teacher {teacher['path']} scored {len(rows):,} {name} rows ({time.process_time() - started:.0f} CPU s)")
    return {name: torch.stack(v) for name, v in result.items()}


def texts_sha256(texts: dict[str, list[str]]) -> str:
    h = hashlib.sha256()
    for name, rows in texts.items():
        h.update(name.encode() + b"\0" + "\n".join(rows).encode() + b"\0")
    return h.hexdigest()


def cached_teacher_logits(out: Path, teachers: list[dict], work: Path, recipe: dict, vocab, tok, texts, log) -> tuple[dict, dict]:
    path = out / "teacher-logits.pt"
    files = [teacher_file(work, t) for t in teachers]
    identity = {"teachers": [{**t, "sha256": file_sha256(f) if f.is_file() else None} for t, f in zip(teachers, files)],
                "texts_sha256": texts_sha256(texts)}
    if path.is_file():
        saved = torch.load(path)
        if saved["identity"] == identity:
            log(f"teacher logits taken from {path}")
            return saved["logits"], identity
        log(f"{path} was made by other teachers or sentences: scoring again")
    logits = teacher_logits(teachers, work, recipe, vocab, tok, texts, log)
    atomic_save({"identity": identity, "logits": logits}, path)
    return logits, identity


def holdout_report(logits: torch.Tensor, labels: torch.Tensor, teachers: list[dict]) -> dict:
    right = lambda x: round(float((x.argmax(-1) == labels).float().mean()), 4)
    return {"teachers": {t["path"]: right(logits[i]) for i, t in enumerate(teachers)}, "ensemble_mean_logits": right(logits.mean(0))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default=str(WORK))
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--stop-at", type=int, help="save a checkpoint and stop at this step (for tests and timing)")
    p.add_argument("--max-steps", type=int, help="a step budget instead of the epochs (a short trial; part of the fingerprint)")
    p.add_argument("--threads", type=int)
    p.add_argument("--recipe", default=str(Path(__file__).resolve().parent / "recipe.json"), help="a variant of recipe.json (a trial)")
    p.add_argument("--out", help="output folder (default WORK/distill)")
    args = p.parse_args()
    recipe, log, work = load_recipe(args.recipe), logger(), Path(args.work)
    out = Path(args.out) if args.out else work / "distill"
    if (out / "report.json").is_file():
        print(f"== distill: {out / 'report.json'} exists, skipped")
        return
    section = recipe["distill"]
    hp = {**section["student"], **(SMOKE if args.smoke else {})}
    count = SMOKE["augmented_sentences"] if args.smoke else section["augmented_sentences"]
    if args.max_steps:
        hp["max_steps"] = args.max_steps
    torch.set_num_threads(args.threads or hp["threads"])
    vocab = read_vocab(work / "vocab.txt")
    tok = WordPieceTokenizer(vocab, recipe["max_length"])
    out.mkdir(parents=True, exist_ok=True)

    train_rows, holdout_rows = sst2_split(recipe, SMOKE_ROWS if args.smoke else None)
    sentences_path = out / "sentences.tsv"
    if not sentences_path.is_file():
        made = augment([t for t, _ in train_rows], count, section["augment_seed"])
        tmp = sentences_path.with_name("sentences.tsv.tmp")
        tmp.write_text("sentence\tlabel\n" + "".join(f"{t}\t0\n" for t in made), encoding="utf-8")
        tmp.replace(sentences_path)
        log(f"wrote {len(made):,} augmented sentences to {sentences_path}")
    sentences = [t for t, _ in read_tsv(sentences_path)]
    if len(sentences) != count:
        raise RecipeError(f"{sentences_path} holds {len(sentences)} sentences, not the recipe's {count}: delete it to make them again")
    texts = {"train": [t for t, _ in train_rows], "augmented": sentences, "holdout": [t for t, _ in holdout_rows]}
    logits, teachers_identity = cached_teacher_logits(out, section["teachers"], work, recipe, vocab, tok, texts, log)
    holdout_labels = torch.tensor([y for _, y in holdout_rows])
    teachers_on_holdout = holdout_report(logits["holdout"], holdout_labels, section["teachers"])
    log(f"hold-out accuracy of the teachers: {teachers_on_holdout}")

    soft = torch.cat([logits["train"].mean(0), logits["augmented"].mean(0)])
    train_set = [(ids, y, i) for i, (ids, y) in enumerate(encode_rows(tok, train_rows))]
    train_set += [(tok.encode(t), int(soft[len(train_rows) + j].argmax()), len(train_rows) + j) for j, t in enumerate(sentences)]
    holdout = encode_rows(tok, holdout_rows)
    distill_hp = {"temperature": hp["temperature"], "alpha": hp["alpha"]}

    def loss_of(student_logits: torch.Tensor, batch: list) -> torch.Tensor:
        labels = torch.tensor([e[1] for e in batch])
        return distillation_loss(student_logits, labels, soft[[e[2] for e in batch]], distill_hp)

    start = work / hp["from"]
    seed = hp["seed"]
    torch.manual_seed(seed)
    model = build_classifier(recipe, vocab)
    identity = {"from": hp["from"], "path": str(start), "sha256": file_sha256(start) if start.is_file() else None}
    ckpt = out / "checkpoint.pt"
    loaded = None
    if not ckpt.is_file():
        model.load_state_dict(load_classifier_state(start, recipe, vocab).state_dict())
        loaded = {"student_start": hp["from"]}
    data = {"split": recipe["split"], "sst2_rows": len(train_rows), "augmented": len(sentences), "sst2_holdout": len(holdout),
            "sha256": examples_sha256(train_set, holdout)}
    fingerprint = {"stage": "distill", "source": identity, "teachers": teachers_identity, "seed": seed, "model": recipe["model"],
                   "max_length": recipe["max_length"], "vocab_sha256": vocab_sha256(vocab), "data": data,
                   "settings": {k: v for k, v in hp.items() if k not in TUNING_ONLY}}
    log(f"distill: student from {hp['from']}, {len(train_set):,} examples ({len(train_rows):,} SST-2 rows + {len(sentences):,} augmented)")
    evaluate = lambda m: {"holdout_accuracy": round(accuracy(m, holdout, tok), 4)}
    done = train(model, train_set, evaluate, "holdout_accuracy", hp, seed, fingerprint, loaded, out, tok.pad_id,
                 args.stop_at, log, loss_of)
    if done is None:
        return
    done["fingerprint_source"] = identity
    report = {"stage": "distill", "smoke": args.smoke, "seed": seed, "selected_by": "holdout_accuracy", "data": data,
              "settings": hp, "teachers": teachers_identity, "teachers_on_holdout": teachers_on_holdout}
    finish(out, model, done, recipe, vocab, report, log)


if __name__ == "__main__":
    main_guard(main)
