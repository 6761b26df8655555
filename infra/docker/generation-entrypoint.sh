#!/bin/sh
# Fetches the model folder from S3 when MODEL_S3_URI is set, then runs the generation server.
set -eu
if [ -n "${MODEL_S3_URI:-}" ]; then
  mkdir -p "$GEN_MODEL_DIR"
  aws s3 sync --only-show-errors "$MODEL_S3_URI" "$GEN_MODEL_DIR"
fi
# node itself, not npx: it is the process the container's stop signal reaches, and npx does not pass SIGTERM on
# (the server would never drain, and outlives its parent outside a container).
exec node --import tsx functions/node/generation-server.ts
