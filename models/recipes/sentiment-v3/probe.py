"""Does the pretraining checkpoint use word order yet? A cheap check (about 15 CPU s) of a plateau in the curve.

Usage: python3 probe.py [--checkpoint WORK/pretrain/checkpoint.pt] [--batches 4]
On 4 batches of 64 windows (epoch batches of another seed, in eval mode), prints the discriminator's AUC against the
generator's samples, against unigram samples (corpus frequencies) and against uniform random tokens, and the
generator's MLM loss, each with the window's words in order and shuffled within the window. A model that has not
learnt to use word order scores the same on both (measured at step 735: AUC 0.58 / 0.58, MLM 6.32 / 6.31); the
corpus's unigram entropy is the MLM loss of a generator that ignores context altogether.
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from common import WORK, load_recipe, main_guard
from corpus import Corpus, read_vocab
from data import pad
from electra import auc
from pretrain import build, epoch_batches
from training import mask_tokens
from wordpiece import WordPieceTokenizer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=str(WORK / "pretrain" / "checkpoint.pt"))
    p.add_argument("--batches", type=int, default=4)
    args = p.parse_args()
    torch.set_num_threads(1)
    recipe, vocab = load_recipe(), read_vocab(WORK / "vocab.txt")
    tok, corpus = WordPieceTokenizer(vocab, recipe["max_length"]), Corpus(WORK / "corpus")
    saved = torch.load(args.checkpoint)
    model = build(recipe, vocab)
    model.load_state_dict(saved["model"])
    model.eval()
    counts = np.bincount(corpus.ids, minlength=len(vocab)).astype(np.float64)
    freq = counts[counts > 0] / counts.sum()
    unigram = torch.tensor(counts / counts.sum())
    rng, out = np.random.default_rng(0), {}
    with torch.no_grad():
        for order in ("in order", "shuffled"):
            scores = {"generator": [], "unigram": [], "uniform": [], "mlm": []}
            for idx in epoch_batches(np.diff(corpus.offsets), 64, 1, 0)[: args.batches]:
                windows = [corpus.window(i).tolist() for i in idx]
                if order == "shuffled":
                    windows = [list(rng.permutation(w)) for w in windows]
                ids, attention = pad([[tok.cls_id, *w, tok.sep_id] for w in windows], tok.pad_id)
                g = torch.Generator().manual_seed(1)
                corrupted, chosen, _ = mask_tokens(ids, attention, tok, recipe["pretrain"]["mask_rate"], g)
                mlm, _, stats = model(ids, attention, corrupted, chosen, g)
                scores["generator"].append(stats["disc_auc"])
                scores["mlm"].append(float(mlm))
                n = int(chosen.sum())
                for kind, sample in (("unigram", torch.multinomial(unigram, n, replacement=True, generator=g)),
                                     ("uniform", torch.randint(5, len(vocab), (n,), generator=g))):
                    replaced = ids.clone()
                    replaced[chosen] = sample
                    hidden, _ = model.discriminator(replaced, attention, torch.zeros_like(ids))
                    logit = model.disc_out(torch.nn.functional.gelu(model.disc_dense(hidden))).squeeze(-1)
                    real = attention.bool()
                    scores[kind].append(auc(logit[real], (replaced != ids)[real]))
            out[order] = {k: round(float(np.mean(v)), 3) for k, v in scores.items()}
    print(json.dumps({"step": saved["step"], "unigram_entropy": round(float(-(freq * np.log(freq)).sum()), 3),
                      "disc_auc_and_mlm": out}))


if __name__ == "__main__":
    main_guard(main)
