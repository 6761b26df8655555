"""Writes a trained classifier as a transformers.js model folder: config, tokenizer, onnx/model.onnx."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from bert import BertConfig, BertForSequenceClassification
from wordpiece import MAX_CHARS_PER_WORD, PREFIX, SPECIAL_TOKENS, WordPieceTokenizer

LABELS = {0: "NEGATIVE", 1: "POSITIVE"}


def _write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def model_config(c: BertConfig) -> dict:
    fields = asdict(c)
    fields.pop("num_labels")
    return {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        **fields,
        "hidden_act": "gelu",
        "initializer_range": 0.02,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "id2label": {str(k): v for k, v in LABELS.items()},
        "label2id": {v: k for k, v in LABELS.items()},
        "problem_type": "single_label_classification",
    }


def tokenizer_json(tok: WordPieceTokenizer) -> dict:
    def special(token: str, type_id: int) -> dict:
        return {"SpecialToken": {"id": token, "type_id": type_id}}

    def sequence(name: str, type_id: int) -> dict:
        return {"Sequence": {"id": name, "type_id": type_id}}

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": tok.ids[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for t in SPECIAL_TOKENS
        ],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": True, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0)],
            "pair": [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0), sequence("B", 1), special("[SEP]", 1)],
            "special_tokens": {t: {"id": t, "ids": [tok.ids[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": PREFIX, "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": PREFIX,
                  "max_input_chars_per_word": MAX_CHARS_PER_WORD, "vocab": tok.ids},
    }


def tokenizer_config(max_length: int) -> dict:
    return {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": True,
        "strip_accents": None,
        "tokenize_chinese_chars": True,
        "model_max_length": max_length,
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
        "clean_up_tokenization_spaces": True,
    }


def export_model_folder(model: BertForSequenceClassification, c: BertConfig, tok: WordPieceTokenizer, out: Path) -> None:
    (out / "onnx").mkdir(parents=True, exist_ok=True)
    _write_json(out / "config.json", model_config(c))
    _write_json(out / "tokenizer.json", tokenizer_json(tok))
    _write_json(out / "tokenizer_config.json", tokenizer_config(tok.max_length))
    _write_json(out / "special_tokens_map.json", {t.strip("[]").lower() + "_token": t for t in SPECIAL_TOKENS})
    (out / "vocab.txt").write_text("\n".join(tok.vocab) + "\n", encoding="utf-8")

    model.eval()
    sample = torch.tensor([tok.encode("a sample sentence for tracing .")])
    inputs = (sample, torch.ones_like(sample), torch.zeros_like(sample))
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch_size", 1: "sequence_length"} for n in names}
    axes["logits"] = {0: "batch_size"}
    torch.onnx.export(model, inputs, str(out / "onnx" / "model.onnx"), input_names=names, output_names=["logits"],
                      dynamic_axes=axes, opset_version=14, do_constant_folding=True)
