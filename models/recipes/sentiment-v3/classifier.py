"""The v3 sentiment classifier and where its fine-tuning starts (the `--from` of finetune.py).

The classifier is v2's BertForSequenceClassification (tanh pooler over [CLS], then a linear layer) whose encoder is
the pretraining's discriminator: factorized embeddings (electra.ProjectedEmbeddings) under v2's BERT layers, so
v2's export.py and training helpers work on it unchanged. Starting points:
  imdb        the imdb-supervised stage's classifier, head included (same labels: 0 negative, 1 positive)
  pretrained  the pretraining's discriminator (pretrain/discriminator.pt, or the latest pretrain/checkpoint.pt)
  glove       no pretraining: word rows from GloVe exactly as pretraining's step 0 has them, the rest random
  random      no pretraining, no GloVe: every weight random (what GloVe adds is glove minus random)
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import torch

from common import RecipeError  # first: it puts the v2 recipe's modules (bert, ...) on the import path
from bert import BertForSequenceClassification, BertModel, Embeddings  # noqa: E402
from electra import configs, encoder
from export_encoder import load_discriminator
from glove import init_matrix, load_subset

SOURCES = ("imdb", "pretrained", "glove", "random")
TRIAL_SUFFIX = "-from-checkpoint"  # outputs made from the running pretraining's checkpoint, kept apart from the real ones


def vocab_sha256(vocab: list[str]) -> str:
    return hashlib.sha256("\n".join(vocab).encode()).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_classifier(recipe: dict, vocab: list[str]) -> BertForSequenceClassification:
    disc, _, embedding_size = configs(len(vocab), recipe["model"], recipe["generator"])
    model = BertForSequenceClassification(disc)
    shared = Embeddings(replace(disc, hidden_size=embedding_size))
    shared.apply(BertModel._init)
    model.bert = encoder(disc, shared, embedding_size)
    return model


def imdb_supervised_folder(work: Path, from_checkpoint: bool) -> Path:
    return work / f"imdb-supervised{TRIAL_SUFFIX if from_checkpoint else ''}"


def pretrained_path(work: Path, from_checkpoint: bool) -> Path:
    return work / "pretrain" / ("checkpoint.pt" if from_checkpoint else "discriminator.pt")


def source_identity(kind: str, work: Path, recipe: dict, from_checkpoint: bool) -> dict:
    """What a fine-tuning checkpoint records of its starting point, checked again on resume.

    pretrain/checkpoint.pt is replaced every 10 minutes while pretraining runs, so a trial started from it is pinned
    to the step it read (recorded by apply_source) and its file hash is not compared on resume.
    """
    if kind == "imdb":
        path = imdb_supervised_folder(work, from_checkpoint) / "model.pt"
        if not path.is_file():
            flag = " --from-checkpoint" if from_checkpoint else ""
            raise RecipeError(f"no IMDB-supervised model at {path} (run: bash models/recipes/sentiment-v3/run.sh imdb-supervised{flag})")
        return {"from": kind, "path": str(path), "sha256": file_sha256(path)}
    if kind == "pretrained":
        path = pretrained_path(work, from_checkpoint)
        if not path.is_file():
            hint = ("run.sh pretrain" if from_checkpoint else
                    "run.sh pretrain to finish pretraining, or add --from-checkpoint to start from the latest pretrain/checkpoint.pt")
            raise RecipeError(f"no pretrained discriminator at {path} ({hint})")
        return {"from": kind, "path": str(path), "sha256": None if from_checkpoint else file_sha256(path)}
    if kind == "glove":
        path = work / "glove" / "vectors.f32"
        if not path.is_file():
            raise RecipeError(f"GloVe subset not found in {path.parent} (run: bash models/recipes/sentiment-v3/run.sh glove)")
        return {"from": kind, "path": str(path), "sha256": file_sha256(path), "glove": recipe["glove"], "seed": recipe["seed"]}
    if kind == "random":
        return {"from": kind}
    raise RecipeError(f"--from must be one of {', '.join(SOURCES)}, not {kind}")


def apply_source(model: BertForSequenceClassification, identity: dict, recipe: dict, vocab: list[str]) -> dict:
    """Loads the starting weights into model; returns what was loaded (step of the pretraining, GloVe counts)."""
    kind = identity["from"]
    if kind == "imdb":
        saved = torch.load(identity["path"])
        if saved.get("model") != recipe["model"] or saved.get("vocab_sha256") != vocab_sha256(vocab):
            raise RecipeError(f"{identity['path']} was trained with another model section or vocabulary than recipe.json's")
        model.load_state_dict(saved["state"])
        return {"pretraining_step": saved["source"].get("pretraining_step"), "imdb_supervised_steps": saved["steps"]}
    if kind == "pretrained":
        discriminator, step = load_discriminator(Path(identity["path"]), recipe, vocab)
        model.bert.load_state_dict(discriminator.state_dict())
        return {"pretraining_step": step}
    if kind == "glove":
        glove = load_subset(Path(identity["path"]).parent, recipe["glove"]["dim"])
        matrix, counts = init_matrix(vocab, glove, recipe["glove"]["init_std"], recipe["seed"], recipe["glove"]["dim"])
        with torch.no_grad():
            model.bert.embeddings.shared.word_embeddings.weight.copy_(torch.from_numpy(matrix))
        return {"glove_init": counts}
    return {}
