#!/bin/sh
# Fetches the model folder from S3 when MODEL_S3_URI is set, then runs the generation server.
set -eu
if [ -n "${MODEL_S3_URI:-}" ]; then
  mkdir -p "$GEN_MODEL_DIR"
  aws s3 sync --only-show-errors "$MODEL_S3_URI" "$GEN_MODEL_DIR"
fi
exec npx tsx functions/node/generation-server.ts
