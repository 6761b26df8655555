"""The out-of-domain figure (issue 11): the final classifier on IMDB's labelled `test` reviews.

Usage: python3 eval_imdb.py --work WORK [--model distill/model.pt] [--every-tsv 10] [--smoke]
IMDB `test` is read here and nowhere else in the recipe; nothing is chosen on it. Each review is cut into windows of
whole consecutive sentences of at most corpus.window_pieces pieces, as text (so the same windows can be fed to the
served model). With torch (fp32, the exported weights) on every review it measures: window accuracy (each window
labelled with its review's label), review accuracy (the review's windows' logits summed), and the accuracy on the
whole review sent as one text (truncated to the model's 128 tokens, what a user sending a review gets). It also
writes WORK/eval-imdb/windows.tsv, the windows of every `every-tsv`-th review, and reviews.tsv, those reviews whole,
for the int8 figures through the project's engine: `npm run models:eval -- models/sst2-bert --data WORK/eval-imdb/windows.tsv`
(any model folder: the same files measure version 2).
Writes WORK/eval-imdb/report.json.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from common import WORK, load_recipe, logger, main_guard
from corpus import SENTENCE_END, read_vocab
from distill import load_classifier_state, score
from edge_bilstm import PAD as BILSTM_PAD, load_any
from imdb_windows import labelled_reviews
from wordpiece import WordPieceTokenizer, normalize, pre_tokenize


def text_windows(text: str, tok: WordPieceTokenizer, width: int) -> list[str]:
    """Whole consecutive sentences packed up to `width` pieces (a longer sentence is a window of its own)."""
    windows, current, pieces = [], [], 0
    for sentence in SENTENCE_END.split(text):
        n = len(tok.encode(sentence)) - 2
        if not pre_tokenize(normalize(sentence)):
            continue
        if current and pieces + n > width:
            windows.append(" ".join(current))
            current, pieces = [], 0
        current.append(sentence.strip())
        pieces += n
    if current:
        windows.append(" ".join(current))
    return windows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default=str(WORK))
    p.add_argument("--model", default="distill/model.pt", help="the classifier, relative to --work (a v3 classifier's model.pt, or an edge_bilstm.py folder)")
    p.add_argument("--out", help="folder for report.json, windows.tsv and reviews.tsv (default WORK/eval-imdb)")
    p.add_argument("--every-tsv", type=int, default=10, help="windows of every N-th review go to windows.tsv")
    p.add_argument("--smoke", action="store_true", help="the first 40 reviews of each label")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    recipe, log, work = load_recipe(), logger(), Path(args.work)
    torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else work / "eval-imdb"
    out.mkdir(parents=True, exist_ok=True)
    vocab = read_vocab(work / "vocab.txt")
    tok = WordPieceTokenizer(vocab, recipe["max_length"])
    if (work / args.model).is_dir():  # the edge BiLSTM: its own whole-word ids, the same windows
        model, words = load_any(work / args.model)
        encode, pad_id, forward = words.ids, BILSTM_PAD, (lambda ids, attention: model(ids, attention))
    else:
        model = load_classifier_state(work / args.model, recipe, vocab)
        encode, pad_id, forward = tok.encode, tok.pad_id, (lambda ids, attention: model(ids, attention, torch.zeros_like(ids)))
    started, cpu0 = time.time(), time.process_time()
    # The file is sorted by label: the smoke run takes every 300th review to see both.
    reviews = list(labelled_reviews(300 if args.smoke else 1, 80 if args.smoke else None, split="test"))
    width = recipe["corpus"]["window_pieces"]
    windows, owner = [], []
    for r, (text, _) in enumerate(reviews):
        cut = text_windows(text, tok, width)
        windows += cut
        owner += [r] * len(cut)
    labels = torch.tensor([y for _, y in reviews])
    owner_t = torch.tensor(owner)
    window_logits = score(forward, [encode(w) for w in windows], pad_id)
    whole_logits = score(forward, [encode(t) for t, _ in reviews], pad_id)
    per_review = torch.zeros(len(reviews), 2).index_add_(0, owner_t, window_logits)
    acc = lambda logits, y: round(float((logits.argmax(1) == y).float().mean()), 4)
    sample = [(w, int(labels[o])) for w, o in zip(windows, owner) if o % args.every_tsv == 0]
    (out / "windows.tsv").write_text("sentence\tlabel\n" + "".join(f"{w.replace(chr(9), ' ')}\t{y}\n" for w, y in sample), encoding="utf-8")
    whole = [(" ".join(t.split()), y) for r, (t, y) in enumerate(reviews) if r % args.every_tsv == 0]
    (out / "reviews.tsv").write_text("sentence\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in whole), encoding="utf-8")
    report = {"split": "test", "reviews": len(reviews), "positive_reviews": int(labels.sum()), "windows": len(windows),
              "window_pieces": width, "model": args.model, "torch_fp32": {
                  "window_accuracy": acc(window_logits, labels[owner_t]),
                  "review_accuracy_summed_windows": acc(per_review, labels),
                  "review_accuracy_whole_text_truncated_128": acc(whole_logits, labels)},
              "windows_tsv": {"every_nth_review": args.every_tsv, "windows": len(sample),
                              "torch_fp32_window_accuracy": acc(window_logits[owner_t % args.every_tsv == 0], labels[owner_t][owner_t % args.every_tsv == 0])},
              "cpu_seconds": round(time.process_time() - cpu0, 1), "wall_seconds": round(time.time() - started, 1)}
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    log(json.dumps(report))


if __name__ == "__main__":
    main_guard(main)
