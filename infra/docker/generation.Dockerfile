# The GPU container of our own generation server (functions/node/generation-server.ts) on onnxruntime-node with CUDA.
# Build context: the repository root (.dockerignore keeps it small). The model folder is synced from S3 at start
# (MODEL_S3_URI, e.g. s3://<model bucket>/stories260K) into GEN_MODEL_DIR.
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04

ENV DEBIAN_FRONTEND=noninteractive NODE_ENV=production
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends ca-certificates curl gnupg awscli \
 && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
 && apt-get install -y -q --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# onnxruntime-node fetches its CUDA 12 execution provider at install when asked to.
RUN ONNXRUNTIME_NODE_INSTALL_CUDA=v12 ONNXRUNTIME_NODE_INSTALL=1 npm ci --omit=dev --ignore-scripts=false \
 && npm install --no-save tsx@4.23.15
COPY functions ./functions
COPY tsconfig.json ./
COPY infra/docker/generation-entrypoint.sh /usr/local/bin/generation-entrypoint

# The port is infra/lib/generation-port.ts's, passed by the CDK build (generation-container.ts); a build by hand
# passes it too: docker build --build-arg PORT=<port>.
ARG PORT
RUN test -n "$PORT" || { echo 'error: build with --build-arg PORT=<port> (the port is defined in infra/lib/generation-port.ts)' >&2; exit 1; }
ENV PORT=${PORT} HOST=0.0.0.0 GEN_MODEL_DIR=/models/stories260K GEN_EXECUTION_PROVIDER=cuda
EXPOSE ${PORT}
HEALTHCHECK --interval=15s --start-period=120s CMD node -e "fetch('http://127.0.0.1:' + process.env.PORT + '/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["/usr/local/bin/generation-entrypoint"]
