"""Which features of the pretrained encoder should a fine-tuned linear head read? A linear probe per layer.

Usage: python3 probe_features.py --checkpoint C [--checkpoint C2 ...] [--seeds 3] [--rows 1000] [--out report.json]
C is what export_encoder.py takes (a copy of checkpoint.pt, discriminator.pt, an fp16 snapshot folder) or `init`:
the untrained encoder with GloVe word rows, as pretraining starts (needs WORK/glove).
For each seed, `--rows` rows sampled from the training part of v2's split (common.sst2_split) train a multinomial
logistic regression (torch, L-BFGS, L2 chosen by 5-fold cross-validation on those rows only) on standardised
features: masked mean pooling of the hidden state after layer k (0 = the projected embeddings) for every k, and
mean + [CLS] concatenated. It is scored on v2's 1,000 held-out sentences. Anchors on the same rows: the majority
class and a bag-of-words logistic regression (binary unigrams + bigrams of the rows, tuned the same way). SST-2's
dev.tsv is never read.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from common import HERE, WORK, load_recipe, logger, main_guard, sst2_split
from data import pad
from export_encoder import FeatureEncoder, load_discriminator
from pretrain import build
from wordpiece import WordPieceTokenizer, normalize, pre_tokenize

L2_GRID = [1.0, 3e-1, 1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5]  # largest first: each fit starts from the previous
FOLDS = 5


def fit(x: torch.Tensor, y: torch.Tensor, l2: float, classes: int, start=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax regression minimising mean cross-entropy + l2 * |W|^2 (bias not penalised), by L-BFGS to convergence.

    start: (W, b) to begin from (the solution for a nearby l2 converges in a few iterations), else zeros.
    """
    w0, b0 = start or (torch.zeros(x.shape[1], classes, dtype=x.dtype), torch.zeros(classes, dtype=x.dtype))
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=500, tolerance_grad=1e-7, tolerance_change=1e-10,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ w + b, y) + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def _standardise(train: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    mean, std = train.mean(0), train.std(0).clamp_min(1e-6)
    return [(t - mean) / std for t in (train, *others)]


def accuracy(w, b, x, y) -> float:
    return float(((x @ w + b).argmax(1) == y).double().mean())


def tuned_probe(x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor, seed: int, standardise: bool) -> dict:
    """L2 chosen by FOLDS-fold cross-validation on (x, y); then refit on all of it and scored on the test rows."""
    classes = int(y.max()) + 1
    folds = np.array_split(np.random.default_rng(seed).permutation(len(y)), FOLDS)
    scores = np.zeros((len(L2_GRID), FOLDS))
    for j, f in enumerate(folds):
        inside = np.setdiff1d(np.arange(len(y)), f)
        tr, va = x[inside], x[f]
        if standardise:
            tr, va = _standardise(tr, va)
        solution = None
        for i, l2 in enumerate(L2_GRID):
            solution = fit(tr, y[inside], l2, classes, solution)
            scores[i, j] = accuracy(*solution, va, y[f])
    cv = scores.mean(1).tolist()
    best = int(np.argmax(cv))  # the first (largest l2) of equal scores
    tr, te = _standardise(x, x_test) if standardise else (x, x_test)
    w, b = fit(tr, y, L2_GRID[best], classes)
    return {"holdout": accuracy(w, b, te, y_test), "cv": cv[best], "l2": L2_GRID[best]}


def pooled_features(encoder: FeatureEncoder, tok: WordPieceTokenizer, texts: list[str]) -> dict[str, torch.Tensor]:
    """{"mean_k": [n, 192], "mean_cls_k": [n, 384]} for every k, batches of similar length."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    parts: dict[str, list] = {}
    with torch.no_grad():
        for start in range(0, len(order), 64):
            rows = order[start : start + 64]
            ids, mask = pad([tok.encode(texts[i]) for i in rows], tok.pad_id)
            m = mask[..., None].float()
            for k, h in enumerate(encoder.hidden_states(ids, mask, torch.zeros_like(ids))):
                mean = (h * m).sum(1) / m.sum(1)
                parts.setdefault(f"mean_{k}", []).append(mean)
                parts.setdefault(f"mean_cls_{k}", []).append(torch.cat([mean, h[:, 0]], 1))
    back = torch.tensor(np.argsort(order))
    return {name: torch.cat(p)[back].double() for name, p in parts.items()}


def bag_of_words(texts: list[str], vocabulary: dict[str, int] | None = None):
    grams = []
    for t in texts:
        w = pre_tokenize(normalize(t))
        grams.append(set(w) | {f"{a} {b}" for a, b in zip(w, w[1:])})
    if vocabulary is None:
        vocabulary = {g: i for i, g in enumerate(sorted(set().union(*grams)))}
    x = torch.zeros(len(texts), len(vocabulary), dtype=torch.float64)
    for row, gs in enumerate(grams):
        x[row, [vocabulary[g] for g in gs if g in vocabulary]] = 1.0
    return x, vocabulary


def load_encoder(spec: str, recipe: dict, vocab: list[str]) -> tuple[FeatureEncoder, str]:
    if spec == "init":
        from glove import init_matrix, load_subset

        torch.manual_seed(recipe["seed"])
        model = build(recipe, vocab)
        matrix, _ = init_matrix(vocab, load_subset(WORK / "glove", recipe["glove"]["dim"]), recipe["glove"]["init_std"],
                                recipe["seed"], recipe["glove"]["dim"])
        with torch.no_grad():
            model.shared.word_embeddings.weight.copy_(torch.from_numpy(matrix))
        model.eval()
        return FeatureEncoder(model.discriminator, recipe["model"]["num_hidden_layers"]).eval(), "step 0 (GloVe init, untrained)"
    disc, step = load_discriminator(Path(spec), recipe, vocab)
    return FeatureEncoder(disc, len(disc.layers)).eval(), f"step {step}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", action="append", required=True)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--vocab", default=str(HERE / "checkpoints" / "vocab.txt"))
    p.add_argument("--out")
    args = p.parse_args()
    torch.set_num_threads(1)
    log, recipe = logger(), load_recipe()
    vocab = Path(args.vocab).read_text(encoding="utf-8").rstrip("\n").split("\n")
    tok = WordPieceTokenizer(vocab, recipe["max_length"])
    train, held = sst2_split(recipe)
    log(f"split: {len(train):,} training rows, {len(held):,} held-out sentences")
    y_test = torch.tensor([label for _, label in held])
    samples = []
    for s in range(args.seeds):
        idx = np.random.default_rng([recipe["seed"], s]).choice(len(train), args.rows, replace=False)
        samples.append(([train[i][0] for i in idx], torch.tensor([train[i][1] for i in idx])))
    report = {"rows": args.rows, "seeds": args.seeds, "holdout": len(held), "l2_grid": L2_GRID, "folds": FOLDS,
              "anchors": {}, "checkpoints": {}}
    for s, (texts, y) in enumerate(samples):
        majority = int(torch.bincount(y).argmax())
        report["anchors"].setdefault("majority", []).append({"holdout": float((y_test == majority).double().mean())})
        x, vocabulary = bag_of_words(texts)
        x_test, _ = bag_of_words([t for t, _ in held], vocabulary)
        report["anchors"].setdefault("bag_of_words", []).append({**tuned_probe(x, y, x_test, y_test, s, False), "features": len(vocabulary)})
        log(f"seed {s}: majority {report['anchors']['majority'][-1]['holdout']:.4f}, bag of words {report['anchors']['bag_of_words'][-1]}")
    for spec in args.checkpoint:
        encoder, name = load_encoder(spec, recipe, vocab)
        test_features = pooled_features(encoder, tok, [t for t, _ in held])
        results: dict[str, list] = {}
        for s, (texts, y) in enumerate(samples):
            features = pooled_features(encoder, tok, texts)
            for key in features:
                results.setdefault(key, []).append(tuned_probe(features[key], y, test_features[key], y_test, s, True))
            log(f"{name} seed {s}: " + ", ".join(f"{k} {v[-1]['holdout']:.4f}" for k, v in results.items()))
        report["checkpoints"][name] = {"source": Path(spec).name, "features": results}
    summary = {name: {k: round(100 * float(np.mean([r["holdout"] for r in v])), 2) for k, v in c["features"].items()}
               for name, c in report["checkpoints"].items()}
    summary["anchors"] = {k: round(100 * float(np.mean([r["holdout"] for r in v])), 2) for k, v in report["anchors"].items()}
    report["mean_holdout_percent"] = summary
    print(json.dumps(summary, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main_guard(main)
