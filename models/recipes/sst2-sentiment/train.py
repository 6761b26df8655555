"""Trains the default edge sentiment model: WordPiece vocabulary, masked-LM pretraining, fine-tuning, ONNX export.

Usage: python3 train.py --out models/sst2-bert [--data-dir DIR] [--smoke]
Also fine-tunes once without pretraining (the ablation the model card reports) unless --skip-ablation is given.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


try:
    import torch
except ImportError:
    fail("PyTorch is missing: install Debian's python3-torch python3-onnx libopenblas0-pthread and run with /usr/bin/python3")

from bert import BertConfig
from data import RecipeError, encode_rows, read_tsv, split_holdout
from export import export_model_folder
from training import fine_tune, pretrain_mlm
from wordpiece import WordPieceTokenizer, train_vocab

SMOKE = {"rows": 400, "vocab_size": 600, "holdout": 60, "pretrain_steps": 4, "finetune_steps": 6}


def parse_args() -> argparse.Namespace:
    default_data = os.environ.get("DATA_DIR", str(REPO.parent / "shared" / "data" / "sst2"))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--data-dir", default=default_data, help="folder with SST-2 train.tsv (default: $DATA_DIR or ../shared/data/sst2)")
    p.add_argument("--config", default=str(HERE / "recipe.json"))
    p.add_argument("--smoke", action="store_true", help="a few steps on a few hundred rows, to check the recipe runs")
    p.add_argument("--skip-ablation", action="store_true", help="do not fine-tune the no-pretraining baseline")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--seed", type=int, help="seed for weights and batch order (default: the recipe's); the split and vocabulary always use the recipe's")
    p.add_argument("--no-pretrain", action="store_true", help="fine-tune from random weights, without masked-LM pretraining")
    p.add_argument("--pretrained-checkpoint", help="reuse the pretrained encoder saved here, or pretrain and save it here")
    p.add_argument("--finetune-epochs", type=int, help="override the recipe's fine-tuning epochs")
    p.add_argument("--write-train-rows", help="write the training split as TSV (for scoring it with teacher models) and stop")
    p.add_argument("--write-holdout-rows", help="with --write-train-rows: also write the held-out sentences as TSV")
    p.add_argument("--teacher-logits", help="float32 files of teacher logits (comma-separated), one row per training-split row: distil from their mean")
    p.add_argument("--augmented-rows", help="with --teacher-logits: extra unlabelled sentences (TSV, augment.py), learnt from the teachers alone")
    p.add_argument("--augmented-logits", help="float32 teacher logits for --augmented-rows (comma-separated files, averaged)")
    return p.parse_args()


def load_teacher_logits(paths: str, rows: int, classes: int) -> "torch.Tensor":
    """The mean of one or more float32 logit files (comma-separated paths), each one row per training row."""
    tables = []
    for name in paths.split(","):
        path = Path(name)
        if not path.is_file():
            raise RecipeError(f"teacher logits not found: {path}")
        data = torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.float32)
        if data.numel() != rows * classes:
            raise RecipeError(f"{path} holds {data.numel()} values, not {classes} logits for each of {rows} training rows")
        tables.append(data.view(rows, classes))
    return torch.stack(tables).mean(0)


def main() -> None:
    args = parse_args()
    try:
        recipe = json.loads(Path(args.config).read_text())
    except (OSError, json.JSONDecodeError) as e:
        fail(f"cannot read recipe {args.config}: {e}")
    torch.set_num_threads(args.threads)
    split_seed = recipe["seed"]
    seed = args.seed if args.seed is not None else split_seed
    out = Path(args.out)
    started = time.time()
    log = lambda msg: print(f"[{time.time() - started:7.1f}s] {msg}", flush=True)

    rows = read_tsv(Path(args.data_dir) / "train.tsv")
    vocab_size, holdout_size = recipe["vocab_size"], recipe["holdout"]["size"]
    pre_hp, ft_hp = dict(recipe["pretrain"]), dict(recipe["finetune"])
    if args.smoke:
        rows = rows[: SMOKE["rows"]]
        vocab_size, holdout_size = SMOKE["vocab_size"], SMOKE["holdout"]
        pre_hp["max_steps"], ft_hp["max_steps"], pre_hp["log_every"] = SMOKE["pretrain_steps"], SMOKE["finetune_steps"], 1
        ft_hp["evals_per_epoch"] = 1
    min_words = recipe["holdout"]["min_words"] if not args.smoke else 3
    if args.finetune_epochs:
        ft_hp["epochs"] = args.finetune_epochs
    whole = recipe["holdout"].get("whole_sentences", False)
    train_rows, holdout_rows = split_holdout(rows, holdout_size, min_words, split_seed, whole)
    log(f"{len(rows)} rows: {len(train_rows)} for training, {len(holdout_rows)} held-out sentences for validation")

    if args.write_train_rows:
        Path(args.write_train_rows).write_text("sentence\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in train_rows), encoding="utf-8")
        log(f"wrote the training split to {args.write_train_rows}")
        if args.write_holdout_rows:
            Path(args.write_holdout_rows).write_text("sentence\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in holdout_rows), encoding="utf-8")
            log(f"wrote the held-out sentences to {args.write_holdout_rows}")
        return
    vocab = train_vocab([text for text, _ in train_rows], vocab_size)
    tok = WordPieceTokenizer(vocab, recipe["max_length"])
    log(f"WordPiece vocabulary: {len(vocab)} tokens")
    config = BertConfig(vocab_size=len(vocab), **recipe["model"])

    train = [(ids, label, i) for i, (ids, label) in enumerate(encode_rows(tok, train_rows))]
    holdout = encode_rows(tok, holdout_rows)
    teacher_logits = None
    if args.teacher_logits:
        teacher_logits = load_teacher_logits(args.teacher_logits, len(train), config.num_labels)
        log(f"distilling from teacher logits in {args.teacher_logits}")
    unlabelled = [e[0] for e in train if len(e[0]) - 2 >= pre_hp["min_words"]]
    if args.augmented_rows:
        if teacher_logits is None or not args.augmented_logits:
            raise RecipeError("--augmented-rows needs --teacher-logits and --augmented-logits")
        extra = [ids for ids, _ in encode_rows(tok, read_tsv(Path(args.augmented_rows)))]
        extra_logits = load_teacher_logits(args.augmented_logits, len(extra), config.num_labels)
        # Their label is the teachers' answer; the loss mixes it with the teachers' soft targets, as for real rows.
        train += [(ids, int(extra_logits[j].argmax()), len(train) + j) for j, ids in enumerate(extra)]
        teacher_logits = torch.cat([teacher_logits, extra_logits])
        log(f"{len(extra)} augmented sentences labelled by the teachers")
    pretrained, pre_report = None, None
    checkpoint = Path(args.pretrained_checkpoint) if args.pretrained_checkpoint else None
    if args.no_pretrain:
        pass
    elif checkpoint and checkpoint.is_file():
        saved = torch.load(checkpoint)
        if saved["vocab"] != vocab or saved["model"] != recipe["model"] or saved["pretrain"] != pre_hp:
            raise RecipeError(f"{checkpoint} was pretrained with another vocabulary, model or schedule: delete it to pretrain again")
        pretrained, pre_report = saved["encoder"], {**saved["report"], "loaded_from": str(checkpoint)}
        log(f"loaded the pretrained encoder from {checkpoint}")
    else:
        pretrained, pre_report = pretrain_mlm(config, tok, unlabelled, pre_hp, seed, log)
        if checkpoint:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"vocab": vocab, "model": recipe["model"], "pretrain": pre_hp, "encoder": pretrained, "report": pre_report}, checkpoint)
    model, ft_report = fine_tune(config, tok, train, holdout, ft_hp, seed, pretrained, log, teacher_logits)
    log(f"fine-tuned{'' if args.no_pretrain else ' after pretraining'}: holdout accuracy {ft_report['holdout_accuracy']:.4f}")
    ablation = None
    if not args.skip_ablation and not args.no_pretrain:
        _, ablation = fine_tune(config, tok, train, holdout, ft_hp, seed, None, log)
        log(f"fine-tuned without pretraining: holdout accuracy {ablation['holdout_accuracy']:.4f}")

    export_model_folder(model, config, tok, out)
    params = sum(p.numel() for p in model.parameters())
    report = {
        "seed": seed,
        "smoke": args.smoke,
        "pretrained": not args.no_pretrain,
        "distilled_from": args.teacher_logits,
        "augmented_rows": args.augmented_rows,
        "parameters": params,
        "vocab_size": len(vocab),
        "rows": {"train": len(train), "holdout": len(holdout), "pretrain_sequences": len(unlabelled)},
        "pretrain": pre_report,
        "finetune": ft_report,
        "finetune_without_pretraining": ablation,
        "total_seconds": round(time.time() - started, 1),
        "machine": {"torch": torch.__version__, "threads": args.threads, "cpu": platform.processor() or platform.machine()},
        "recipe": recipe,
    }
    (out / "training_report.json").write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {out} ({params:,} parameters)")


if __name__ == "__main__":
    try:
        main()
    except RecipeError as e:
        fail(str(e))
