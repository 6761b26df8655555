"""The edge BiLSTM (edge_bilstm.py) as a model folder the engine serves, quantized and checked against torch.

Usage: python3 export_bilstm.py --work WORK --model edge-bilstm/distill --out models/FOLDER [--smoke]
The graph is written with onnx.helper rather than torch.onnx, because torch's exporter runs an LSTM over the padding
of a batch: here ONNX's LSTM gets each row's length (sequence_lens), so a padded batch answers exactly what each text
answers alone. input_ids, attention_mask int64 [batch, seq] -> logits float32 [batch, 2]. The tokenizer is BERT's
normalizer and pre-tokenizer with a WordPiece model over whole words only (no ## pieces): a word outside the table is
[UNK], as in training. onnx/model_quantized.onnx stores the word table as int8 with a scale per row
(models/tools/quantize-cli.ts); the LSTM and the head stay float32 (1.2 MB of the file), so a text's scores do not
depend on the batch it runs in. Then both ONNX files score v2's hold-out
in the project's engine (models/tools/eval-cli.ts) and an export whose fp32 accuracy differs from torch's is refused.
Never reads SST-2 dev.tsv.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from onnx import TensorProto, checker, helper, numpy_helper, save_model

from common import WORK, RecipeError, load_recipe, logger, main_guard, sst2_split
from edge_bilstm import PAD, SPECIALS, EdgeWords, load_any
from wordpiece import normalize, pre_tokenize
from export_classifier import onnx_holdout_check, run_tool
from export import _write_json
from types import SimpleNamespace
from data import pad
from training import accuracy

OPSET = 14
# Written for the engine check (not from any dataset): short and long, unknown words, clitics, punctuation, accents.
REFERENCE_TEXTS = [
    "A wonderful film.", "Terrible.", "I didn't like it at all, and the ending is worse.",
    "The soup was cold but the staff couldn't have been kinder.", "zxqv blorptastic flimflam",
    "Not bad, not great: a perfectly ordinary afternoon at the cinema.", "Café crème, déjà vu, naïve façade.",
    "It is the kind of movie you forget before you reach the parking lot, which is a shame given the cast.",
    "Five stars!!!", "Worst purchase I've ever made; it broke after two days and support never answered.",
    "The plot meanders , the jokes land , and the music carries every scene .", "ok",
]
# torch packs an LSTM's four gates as input, forget, cell, output; ONNX as input, output, forget, cell.
GATES_TO_ONNX = [0, 3, 1, 2]


def onnx_gates(w: torch.Tensor, hidden: int) -> np.ndarray:
    return torch.cat([w[i * hidden : (i + 1) * hidden] for i in GATES_TO_ONNX]).numpy().astype(np.float32)


def lstm_initializers(state: dict, hidden: int) -> list:
    W, R, B = [], [], []
    for suffix in ("", "_reverse"):
        W.append(onnx_gates(state[f"lstm.weight_ih_l0{suffix}"], hidden))
        R.append(onnx_gates(state[f"lstm.weight_hh_l0{suffix}"], hidden))
        B.append(np.concatenate([onnx_gates(state[f"lstm.bias_ih_l0{suffix}"], hidden), onnx_gates(state[f"lstm.bias_hh_l0{suffix}"], hidden)]))
    return [numpy_helper.from_array(np.stack(W), "lstm_W"), numpy_helper.from_array(np.stack(R), "lstm_R"),
            numpy_helper.from_array(np.stack(B), "lstm_B")]


def build_graph(state: dict, hidden: int):
    const = lambda name, values, dtype=np.int64: numpy_helper.from_array(np.array(values, dtype=dtype), name)
    inits = [numpy_helper.from_array(state["embed.weight"].numpy().astype(np.float32), "word_embeddings"),
             *lstm_initializers(state, hidden),
             numpy_helper.from_array(state["classifier.weight"].numpy().T.astype(np.float32).copy(), "classifier_weight"),
             numpy_helper.from_array(state["classifier.bias"].numpy().astype(np.float32), "classifier_bias"),
             const("axis_1", [1]), const("axis_2", [2]), const("shape_bt_", [0, 0, -1]),
             const("one_f", 1.0, np.float32), const("masked_f", -1e4, np.float32)]
    n = helper.make_node
    nodes = [
        n("Gather", ["word_embeddings", "input_ids"], ["embedded"], axis=0),            # [B, T, D]
        n("Transpose", ["embedded"], ["time_major"], perm=[1, 0, 2]),                   # [T, B, D]
        n("ReduceSum", ["attention_mask", "axis_1"], ["lengths64"], keepdims=0),       # [B]
        n("Cast", ["lengths64"], ["lengths"], to=TensorProto.INT32),
        n("LSTM", ["time_major", "lstm_W", "lstm_R", "lstm_B", "lengths"], ["lstm_Y"], hidden_size=hidden, direction="bidirectional"),
        n("Transpose", ["lstm_Y"], ["batch_major"], perm=[2, 0, 1, 3]),                # [B, T, 2, H]
        n("Reshape", ["batch_major", "shape_bt_"], ["states"]),                         # [B, T, 2H]
        n("Cast", ["attention_mask"], ["mask_bool2"], to=TensorProto.BOOL),
        n("Unsqueeze", ["mask_bool2", "axis_2"], ["mask_bool"]),                         # [B, T, 1]
        n("Cast", ["mask_bool"], ["mask_f"], to=TensorProto.FLOAT),
        n("Where", ["mask_bool", "states", "masked_f"], ["for_max"]),
        n("ReduceMax", ["for_max"], ["pooled_max"], axes=[1], keepdims=0),             # [B, 2H]
        n("Mul", ["states", "mask_f"], ["masked_states"]),
        n("ReduceSum", ["masked_states", "axis_1"], ["summed"], keepdims=0),
        n("Cast", ["lengths64"], ["lengths_f1"], to=TensorProto.FLOAT),
        n("Max", ["lengths_f1", "one_f"], ["lengths_f2"]),
        n("Unsqueeze", ["lengths_f2", "axis_1"], ["lengths_f"]),                        # [B, 1]
        n("Div", ["summed", "lengths_f"], ["pooled_mean"]),
        n("Concat", ["pooled_max", "pooled_mean"], ["pooled"], axis=1),                  # [B, 4H]
        n("MatMul", ["pooled", "classifier_weight"], ["projected"], name="classifier_matmul"),
        n("Add", ["projected", "classifier_bias"], ["logits"]),
    ]
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "sequence_length"])
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", 2])
    graph = helper.make_graph(nodes, "edge_bilstm", [ids, mask], [logits], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="edge-maas sentiment-v3 export_bilstm.py")
    model.ir_version = 8
    checker.check_model(model)
    return model


def tokenizer_json(words: list[str], max_length: int) -> dict:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
                          "special": True} for i, t in enumerate(specials)],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": True, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                           "special_tokens": {t: {"id": t, "ids": [specials.index(t)], "tokens": [t]} for t in ("[CLS]", "[SEP]")}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                  "vocab": {w: i for i, w in enumerate(words)}},
    }


def write_folder(out: Path, words: list[str], max_length: int, hidden: int, onnx_model) -> None:
    (out / "onnx").mkdir(parents=True, exist_ok=True)
    save_model(onnx_model, str(out / "onnx" / "model.onnx"))
    _write_json(out / "config.json", {
        "architectures": ["GloveBiLSTMForSequenceClassification"], "model_type": "glove-bilstm",
        "comment": "a BiLSTM over GloVe 6B 100d word vectors (max+mean pooling), not a transformer: the engine needs only "
                   "model_type, id2label and max_position_embeddings; inputs are input_ids and attention_mask",
        "vocab_size": len(words), "embedding_size": 100, "hidden_size": hidden, "bidirectional": True,
        "max_position_embeddings": max_length, "pad_token_id": PAD,
        "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}, "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
        "problem_type": "single_label_classification"})
    _write_json(out / "tokenizer.json", tokenizer_json(words, max_length))
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "strip_accents": None, "tokenize_chinese_chars": True,
        "model_max_length": max_length, "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
        "clean_up_tokenization_spaces": True})
    _write_json(out / "special_tokens_map.json", {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"})
    (out / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")


@torch.no_grad()
def write_reference(out: Path, model, words, texts: list[str]) -> None:
    """Torch's logits for some hold-out sentences with the word table as the int8 file stores it (symmetric, a scale
    per row, as models/tools/quantize/int8-weights.ts): the LSTM stays float32 in both, so the engine must match."""
    table = model.embed.weight.detach().clone()
    scale = table.abs().amax(1, keepdim=True) / 127
    scale[scale == 0] = 1
    quantized = {k: v.clone() for k, v in model.state_dict().items()}
    quantized["embed.weight"] = (table / scale).round().clamp(-127, 127) * scale
    reference = type(model)(table.shape[0], table.shape[1], model.lstm.hidden_size, 0.0).eval()
    reference.load_state_dict(quantized)
    ids, attention = pad([words.ids(t) for t in texts], PAD)
    logits = reference(ids, attention)
    _write_json(out / "reference_logits.json", {
        "comment": "torch logits of sentences written for this check, with the int8 word table dequantized: "
                   "test/models/sst2-glove-bilstm.test.ts holds the engine's int8 answers to them",
        "variant": "model_quantized", "texts": texts, "logits": [[round(float(x), 6) for x in row] for row in logits]})


def train_words(recipe: dict, smoke: bool) -> set[str]:
    train_rows, _ = sst2_split(recipe, 400 if smoke else None)
    return {w for text, _ in train_rows for w in pre_tokenize(normalize(text))}


def prune_words(model, words: EdgeWords, work: Path, keep: set[str], min_count: int):
    """The model with a smaller word table, for the Worker's bundle and memory: the special tokens, every word of
    SST-2's training split, and the other words that occur at least min_count times in the IMDB + SST-2 corpus
    (corpus/words.tsv). Dropped words read as [UNK], in torch and in the engine alike."""
    counts_path = work / "corpus" / "words.tsv"
    if not counts_path.is_file():
        raise RecipeError(f"{counts_path} not found (run: bash models/recipes/sentiment-v3/run.sh corpus)")
    counts = {}
    for line in counts_path.read_text(encoding="utf-8").splitlines():
        word, _, n = line.partition("\t")
        if n.isdigit():
            counts[word] = int(n)
    kept = [i for i, w in enumerate(words.words) if i < len(SPECIALS) or w in keep or counts.get(w, 0) >= min_count]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["embed.weight"] = state["embed.weight"][kept].clone()
    smaller = type(model)(len(kept), state["embed.weight"].shape[1], model.lstm.hidden_size, 0.0).eval()
    smaller.load_state_dict(state)
    return smaller, EdgeWords([words.words[i] for i in kept], words.max_length)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default=str(WORK))
    p.add_argument("--model", default="edge-bilstm/distill", help="folder of edge_bilstm.py's model.pt, relative to --work")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--smoke", action="store_true")
    args = p.parse_args()
    recipe, log, work, out = load_recipe(), logger(), Path(args.work), Path(args.out)
    folder = work / args.model
    saved = torch.load(folder / "model.pt")
    if saved.get("kind") != "edge-bilstm":
        raise RecipeError(f"{folder}/model.pt is not an edge_bilstm.py model (its word table has no [CLS]/[SEP])")
    full_model, full_words = load_any(folder)
    _, holdout_rows = sst2_split(recipe, 400 if args.smoke else None)
    score = lambda m, w: accuracy(m, [(w.ids(t), y) for t, y in holdout_rows], SimpleNamespace(pad_id=PAD))
    model, words = prune_words(full_model, full_words, work, train_words(recipe, args.smoke), recipe["edge_bilstm"]["export"]["min_corpus_count"])
    pruned = {"words_before": len(full_words.words), "words_after": len(words.words),
              "min_corpus_count": recipe["edge_bilstm"]["export"]["min_corpus_count"],
              "holdout_before": round(score(full_model, full_words), 4)}
    log(f"word table pruned: {pruned}")
    hidden = saved["settings"]["hidden_size"]
    write_folder(out, words.words, saved["max_length"], hidden, build_graph(model.state_dict(), hidden))
    # Only the word table is quantized: the 600x2 head gains nothing from int8, and its dynamic activation
    # quantization would make a text's scores depend on the batch it runs in.
    log(run_tool(["models/tools/quantize-cli.ts", str(out / "onnx" / "model.onnx"), str(out / "onnx" / "model_quantized.onnx"),
                  "--exclude", "classifier_matmul"], "quantization"))

    torch_accuracy = score(model, words)
    onnx_results = onnx_holdout_check(out, holdout_rows, torch_accuracy, log)
    write_reference(out, model, words, REFERENCE_TEXTS)
    report_path = folder / "report.json"
    training = json.loads(report_path.read_text()) if report_path.is_file() else {}
    _write_json(out / "training_report.json", {
        **training, "exported_from": {"model": args.model}, "word_table_pruning": pruned,
        "export_check_holdout": {"torch": round(torch_accuracy, 4), **{k: round(v, 4) for k, v in onnx_results.items()}},
        "parameters": sum(p.numel() for p in model.parameters())})
    log(f"wrote {out}: hold-out torch {torch_accuracy:.4f}, ONNX fp32 {onnx_results['model']:.4f}, int8 {onnx_results['model_quantized']:.4f}")


if __name__ == "__main__":
    main_guard(main)
