#!/usr/bin/env bash
# Smoke test of the recipe: every stage of run.sh (four teachers, augmentation, teacher logits, the distilled
# student, export, quantization, evaluation) on a few hundred rows and a few steps.
# Needs Debian's python3-torch python3-onnx libopenblas0-pthread. Usage: npm run test:recipe
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
source "$here/check-python.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
bash "$here/run.sh" --smoke --work "$work" --out "$work/model"
# Fine-tuning again from the saved pretrained encoder must give the same model, byte for byte (seeded).
"$PYTHON" "$here/train.py" --out "$work/again" --smoke --skip-ablation --pretrained-checkpoint "$work/pretrained-encoder.pt" --seed 20261128 --threads 2
cmp -s "$work/teacher-a/onnx/model.onnx" "$work/again/onnx/model.onnx" || { echo "recipe smoke test: FAILED, the rerun from the checkpoint differs"; exit 1; }
# The whole-sentence hold-out (recipe.json holdout.whole_sentences) must hold out rows no other row contains.
"$PYTHON" - "$here" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from data import read_tsv, split_holdout
from wordpiece import normalize, pre_tokenize
data_dir = Path(os.environ.get("DATA_DIR", Path(sys.argv[1]).parents[2].parent / "shared" / "data" / "sst2"))
rows = read_tsv(data_dir / "train.tsv")[:3000]
train, held = split_holdout(rows, 50, 8, 1, whole_sentences=True)
padded = lambda text: " " + " ".join(pre_tokenize(normalize(text))) + " "
held_texts = [padded(h) for h, _ in held]
all_texts = [padded(t) for t, _ in rows]
assert len(held) == 50 and all(sum(h in t for t in all_texts) == 1 for h in held_texts), "a held-out row sits inside another row"
assert not any(padded(t) in h for t, _ in train for h in held_texts), "a training row is a phrase of a held-out sentence"
print("whole-sentence hold-out: 50 sentences, none inside another row, none of their phrases in training")
PY
for f in config.json tokenizer.json tokenizer_config.json onnx/model.onnx onnx/model_quantized.onnx training_report.json teachers_report.json; do
  [ -s "$work/model/$f" ] || { echo "recipe smoke test: FAILED, $f missing"; exit 1; }
done
echo "recipe smoke test: 1 passed, 0 failed"
