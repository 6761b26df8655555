#!/usr/bin/env bash
# The recipe of the default sentiment model (about 2 hours on 2 cores): WordPiece vocabulary, masked-LM
# pretraining, fine-tuning, the no-pretraining ablation, ONNX export, int8 quantization, evaluation on SST-2 dev.
# Usage: npm run models:train [-- --out DIR]   (DATA_DIR overrides ../shared/data/sst2)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
source "$here/check-python.sh"
out="$root/models/sst2-bert"
if [ "${1:-}" = "--out" ]; then out="$2"; shift 2; fi
cd "$root"
"$PYTHON" "$here/train.py" --out "$out" --pretrained-checkpoint "$root/.recipe-work/pretrained-encoder.pt" "$@"
npx tsx models/tools/quantize-cli.ts "$out/onnx/model.onnx" "$out/onnx/model_quantized.onnx"
npx tsx models/tools/eval-cli.ts "$out" --json "$out/eval_sst2_dev.json"
