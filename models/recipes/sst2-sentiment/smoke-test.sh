#!/usr/bin/env bash
# Smoke test of the recipe: a few training steps on a few hundred rows, export, quantize, load and classify.
# Needs Debian's python3-torch python3-onnx libopenblas0-pthread. Usage: npm run test:recipe
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
source "$here/check-python.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
"$PYTHON" "$here/train.py" --out "$work/model" --smoke --skip-ablation --pretrained-checkpoint "$work/encoder.pt"
# Fine-tuning again from the saved pretrained encoder must give the same model, byte for byte (seeded).
"$PYTHON" "$here/train.py" --out "$work/again" --smoke --skip-ablation --pretrained-checkpoint "$work/encoder.pt"
cmp -s "$work/model/onnx/model.onnx" "$work/again/onnx/model.onnx" || { echo "recipe smoke test: FAILED, the rerun from the checkpoint differs"; exit 1; }
npx tsx models/tools/quantize-cli.ts "$work/model/onnx/model.onnx" "$work/model/onnx/model_quantized.onnx" --min-embedding-rows 64
npx tsx models/tools/eval-cli.ts "$work/model" --data "$here/smoke-sentences.tsv"
for f in config.json tokenizer.json tokenizer_config.json onnx/model.onnx onnx/model_quantized.onnx training_report.json; do
  [ -s "$work/model/$f" ] || { echo "recipe smoke test: FAILED, $f missing"; exit 1; }
done
echo "recipe smoke test: 1 passed, 0 failed"
