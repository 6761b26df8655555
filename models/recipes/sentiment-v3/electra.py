"""ELECTRA (Clark et al., 2020) replaced-token detection over v2's BERT encoder, with factorized embeddings.

Word, position and token-type embeddings live at embedding_size (100: GloVe's width, so GloVe initialises the word
table as is) and are shared by the generator and the discriminator; each projects them to its own hidden size.
The generator is a small masked LM; the discriminator (the model kept for fine-tuning) learns from every token
whether the generator replaced it.
"""
from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from bert import BertConfig, BertModel, Embeddings


class ProjectedEmbeddings(nn.Module):
    """Shared embeddings (v2's Embeddings module at embedding_size) followed by this model's projection."""

    def __init__(self, shared: Embeddings, embedding_size: int, hidden_size: int):
        super().__init__()
        self.shared = shared
        self.project = nn.Linear(embedding_size, hidden_size)
        BertModel._init(self.project)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        return self.project(self.shared(input_ids, token_type_ids))


def configs(vocab_size: int, model: dict, generator: dict) -> tuple[BertConfig, BertConfig, int]:
    """(discriminator config, generator config, embedding_size) from recipe.json's model and generator sections."""
    fields = dict(model)
    embedding_size = fields.pop("embedding_size")
    disc = BertConfig(vocab_size=vocab_size, **fields)
    return disc, replace(disc, **generator), embedding_size


def encoder(config: BertConfig, shared: Embeddings, embedding_size: int) -> BertModel:
    model = BertModel(config)
    model.embeddings = ProjectedEmbeddings(shared, embedding_size, config.hidden_size)
    return model


class Electra(nn.Module):
    def __init__(self, disc: BertConfig, gen: BertConfig, embedding_size: int):
        super().__init__()
        self.shared = Embeddings(replace(disc, hidden_size=embedding_size))
        self.shared.apply(BertModel._init)
        self.generator = encoder(gen, self.shared, embedding_size)
        self.gen_dense = nn.Linear(gen.hidden_size, embedding_size)
        self.gen_norm = nn.LayerNorm(embedding_size, eps=gen.layer_norm_eps)
        self.gen_bias = nn.Parameter(torch.zeros(disc.vocab_size))
        self.discriminator = encoder(disc, self.shared, embedding_size)
        self.disc_dense = nn.Linear(disc.hidden_size, disc.hidden_size)
        self.disc_out = nn.Linear(disc.hidden_size, 1)
        for m in (self.gen_dense, self.disc_dense, self.disc_out):
            BertModel._init(m)

    def forward(self, ids, attention, corrupted, chosen, sampler: torch.Generator):
        """Generator MLM loss, discriminator loss, and counters: (mlm, disc, stats)."""
        types = torch.zeros_like(ids)
        hidden, _ = self.generator(corrupted, attention, types)
        h = self.gen_norm(nn.functional.gelu(self.gen_dense(hidden[chosen])))
        logits = h @ self.shared.word_embeddings.weight.T + self.gen_bias
        labels = ids[chosen]
        mlm = nn.functional.cross_entropy(logits, labels)
        with torch.no_grad():
            sampled = torch.multinomial(logits.softmax(-1), 1, generator=sampler).squeeze(1)
        replaced_input = ids.clone()
        replaced_input[chosen] = sampled
        replaced = (replaced_input != ids)[attention.bool()].float()
        hidden, _ = self.discriminator(replaced_input, attention, types)
        scores = self.disc_out(nn.functional.gelu(self.disc_dense(hidden))).squeeze(-1)[attention.bool()]
        disc = nn.functional.binary_cross_entropy_with_logits(scores, replaced)
        with torch.no_grad():
            stats = {"gen_acc": float((sampled == labels).float().mean()), "replaced": float(replaced.mean()),
                     "disc_acc": float(((scores > 0).float() == replaced).float().mean()),
                     "disc_auc": auc(scores, replaced.bool()), "tokens": int(attention.sum())}
        return mlm, disc, stats


def auc(scores: torch.Tensor, positive: torch.Tensor) -> float:
    """Area under the ROC curve (rank-sum): 0.5 is chance; the accuracy hides this while 85 % of tokens are original."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return 0.5
    ranks = torch.empty_like(scores)
    ranks[scores.argsort()] = torch.arange(1, len(scores) + 1, dtype=scores.dtype)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
