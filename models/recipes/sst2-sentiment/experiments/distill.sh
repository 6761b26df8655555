#!/usr/bin/env bash
# Experiment (reported in models/sst2-bert/README.md, not the shipped model): distil one model from three teachers.
#   1. teacher A: the default recipe (WordPiece vocabulary, masked-LM pretraining, fine-tuning);
#   2. teachers B and C: fine-tuned from random weights with other seeds, side by side on one thread each;
#   3. the student: fine-tuned with knowledge distillation from the mean logits of A, B and C;
#   4. int8 quantization and evaluation on SST-2 dev, fp32 and int8 side by side.
# About 75 minutes on 2 cores. Usage: bash experiments/distill.sh [--out DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/../../.." && pwd)"
source "$here/check-python.sh"
out="$root/.recipe-work/distilled"
if [ "${1:-}" = "--out" ]; then out="$2"; shift 2; fi
work="$root/.recipe-work"
mkdir -p "$work"
cd "$root"
train() { "$PYTHON" "$here/train.py" "$@"; }

train --out "$work/teacher-a"
train --out "$work/teacher-b" --no-pretrain --seed 1 --finetune-epochs 2 --threads 1 > "$work/teacher-b.log" 2>&1 &
b=$!
train --out "$work/teacher-c" --no-pretrain --seed 2 --finetune-epochs 2 --threads 1 > "$work/teacher-c.log" 2>&1 &
c=$!
wait $b || { tail -n 3 "$work/teacher-b.log"; exit 1; }
wait $c || { tail -n 3 "$work/teacher-c.log"; exit 1; }

train --out "$work/rows" --write-train-rows "$work/train_rows.tsv"
logits=()
for t in a b c; do
  npx tsx "$here/teacher-logits.ts" --rows "$work/train_rows.tsv" --out "$work/logits-$t.f32" "$work/teacher-$t"
  logits+=("$work/logits-$t.f32")
done
train --out "$out" --no-pretrain --seed 3 --teacher-logits "$(IFS=,; echo "${logits[*]}")"
cp "$work/teacher-a/training_report.json" "$out/training_report_teacher_a.json"

npx tsx models/tools/quantize-cli.ts "$out/onnx/model.onnx" "$out/onnx/model_quantized.onnx"
npx tsx models/tools/eval-cli.ts "$out" --json "$out/eval_sst2_dev.json"
