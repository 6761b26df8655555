# Sourced by the recipe's scripts: picks Debian's python3 with torch and onnx, or stops with a one-line reason.
PYTHON="${RECIPE_PYTHON:-/usr/bin/python3}"
if ! "$PYTHON" -c 'import torch, onnx' 2>/dev/null; then
  echo "error: $PYTHON lacks torch or onnx: run 'sudo apt-get install -y python3-torch python3-onnx libopenblas0-pthread' (or set RECIPE_PYTHON)" >&2
  exit 1
fi
# grep -q would close the pipe early and, under pipefail, fail ldconfig: read its whole output first.
if ! ldconfig -p 2>/dev/null | grep libopenblas > /dev/null; then
  echo "warning: libopenblas0-pthread is not installed: torch falls back to the reference BLAS and trains about 8x slower" >&2
fi
