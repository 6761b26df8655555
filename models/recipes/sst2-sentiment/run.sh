#!/usr/bin/env bash
# The recipe of the default sentiment model, every setting in recipe.json (about 3 hours on 2 cores):
#  1. teacher A: WordPiece vocabulary, masked-LM pretraining on the training sentences (the encoder is saved for the
#     others), fine-tuning on the labels; beside it teacher B, the same fine-tuning from random weights (the
#     pretraining ablation the model card reports);
#  2. teachers C and D: the pretrained encoder fine-tuned with two more seeds, side by side;
#  3. new sentences made from the training split (augment.py) and the teachers' mean logits on them and on the split;
#  4. the student, the shipped model: the pretrained encoder fine-tuned on the split plus the new sentences, distilled
#     from the teachers, its checkpoint chosen on the hold-out; exported to ONNX;
#  5. int8 quantization and evaluation on SST-2 dev (fp32 and int8 side by side).
# Intermediate models and logits live in .recipe-work/ and are reused when present (delete it to start over).
# Usage: npm run models:train [-- --out DIR] [-- --smoke]   (DATA_DIR overrides ../shared/data/sst2)
#   --smoke: every stage on a few hundred rows and a few steps, in a temporary folder (npm run test:recipe).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
source "$here/check-python.sh"
out="$root/models/sst2-bert"
work="$root/.recipe-work"
smoke=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --smoke) smoke=(--smoke); shift ;;
    *) echo "error: unknown option $1 (usage: run.sh [--out DIR] [--work DIR] [--smoke])" >&2; exit 2 ;;
  esac
done
mkdir -p "$work"
cd "$root"
setting() { "$PYTHON" -c "import json, sys; print(json.load(open(sys.argv[1]))['distillation']$1)" "$here/recipe.json"; }
train() { "$PYTHON" "$here/train.py" --pretrained-checkpoint "$work/pretrained-encoder.pt" --skip-ablation "${smoke[@]}" "$@"; }
logits() { npx tsx "$here/teacher-logits.ts" --backend node --threads 2 "$@"; }
teacher() { # teacher <index>: trains it into $work/<name> unless it is there
  local name pretrained seed threads
  name="$(setting "['teachers'][$1]['name']")"; pretrained="$(setting "['teachers'][$1]['pretrained']")"
  seed="$(setting "['teachers'][$1]['seed']")"; threads="$(setting "['teachers'][$1]['threads']")"
  [ -s "$work/$name/onnx/model.onnx" ] && return 0
  local flags=(--out "$work/$name" --seed "$seed" --threads "$threads")
  [ "$pretrained" = "True" ] || flags+=(--no-pretrain)
  train "${flags[@]}" > "$work/$name.log" 2>&1 || { tail -n 3 "$work/$name.log" >&2; return 1; }
  tail -n 2 "$work/$name.log"
}
both() { teacher "$1" & local a=$!; teacher "$2" & local b=$!; wait "$a"; wait "$b"; }

both 0 1
both 2 3
names=(); for i in 0 1 2 3; do names+=("$work/$(setting "['teachers'][$i]['name']")"); done

aug="$work/augmented"
mkdir -p "$aug"
train --out "$aug/rows" --write-train-rows "$aug/train_rows.tsv"
count="$(setting "['augmented_sentences']")"
[ ${#smoke[@]} -eq 0 ] || count=200
"$PYTHON" "$here/augment.py" --rows "$aug/train_rows.tsv" --out "$aug/sentences.tsv" --count "$count" --seed "$(setting "['augment_seed']")"
logits --rows "$aug/train_rows.tsv" --out "$aug/train-logits.f32" "${names[@]}"
logits --rows "$aug/sentences.tsv" --out "$aug/sentence-logits.f32" "${names[@]}"

train --out "$out" --seed "$(setting "['student']['seed']")" --finetune-epochs "$(setting "['student']['epochs']")" \
  --threads "$(setting "['student']['threads']")" --teacher-logits "$aug/train-logits.f32" \
  --augmented-rows "$aug/sentences.tsv" --augmented-logits "$aug/sentence-logits.f32"
"$PYTHON" "$here/teachers_report.py" --out "$out/teachers_report.json" "${names[@]}"

quantize=()
[ ${#smoke[@]} -eq 0 ] || quantize=(--min-embedding-rows 64)
npx tsx models/tools/quantize-cli.ts "$out/onnx/model.onnx" "$out/onnx/model_quantized.onnx" "${quantize[@]}"
if [ ${#smoke[@]} -eq 0 ]; then
  npx tsx models/tools/eval-cli.ts "$out" --json "$out/eval_sst2_dev.json"
else
  npx tsx models/tools/eval-cli.ts "$out" --data "$here/smoke-sentences.tsv"
fi
