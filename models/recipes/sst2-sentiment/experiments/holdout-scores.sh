#!/usr/bin/env bash
# The hold-out accuracy of each model folder given and of their mean logits (the "what was tried" table of the
# model card), with the recipe's split. Usage: bash experiments/holdout-scores.sh <model folder>...
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/../../.." && pwd)"
source "$here/check-python.sh"
[ $# -gt 0 ] || { echo "usage: holdout-scores.sh <model folder>..." >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
"$PYTHON" "$here/train.py" --out "$work/rows" --write-train-rows "$work/train.tsv" --write-holdout-rows "$work/holdout.tsv" > /dev/null
for folder in "$@"; do
  npx tsx "$here/teacher-logits.ts" --backend node --threads 2 --rows "$work/holdout.tsv" --out "$work/$(basename "$folder").f32" "$folder" > /dev/null
done
"$PYTHON" - "$work" "$@" <<'PY'
import sys
from pathlib import Path
import torch
work, folders = Path(sys.argv[1]), sys.argv[2:]
labels = torch.tensor([int(line.split("\t")[1]) for line in (work / "holdout.tsv").read_text().splitlines()[1:]])
logits = [torch.frombuffer(bytearray((work / f"{Path(f).name}.f32").read_bytes()), dtype=torch.float32).view(-1, 2) for f in folders]
for folder, l in zip(folders, logits):
    print(f"{folder}: {(l.argmax(1) == labels).float().mean():.4f}")
if len(logits) > 1:
    print(f"mean logits of {len(logits)}: {(torch.stack(logits).mean(0).argmax(1) == labels).float().mean():.4f}")
PY
