#!/usr/bin/env bash
# Refreshes the committed pretraining snapshot from the running (or finished) pretraining and commits that folder
# alone: snapshot.py writes checkpoints/ from .recipe-work/sentiment-v3/pretrain/checkpoint.pt (the last periodic
# checkpoint, at most 10 minutes old; the running pretraining is not disturbed), then git commits only checkpoints/.
# Usage: bash models/recipes/sentiment-v3/snapshot.sh
source "$(dirname "$0")/env.sh"
cd "$root"
rel="models/recipes/sentiment-v3/checkpoints"
"$PYTHON" "$here/snapshot.py" --out "$root/$rel"
summary="$("$PYTHON" "$here/snapshot.py" --describe --out "$root/$rel")"
git add -A -- "$rel"
if git diff --cached --quiet -- "$rel"; then echo "snapshot unchanged ($summary): nothing to commit"; exit 0; fi
git commit -q -m "sentiment-v3: pretraining snapshot at $summary, so a fresh machine resumes there" -- "$rel"
echo "committed $(git rev-parse --short HEAD): $summary"
