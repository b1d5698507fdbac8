# syntax=docker/dockerfile:1
# Targets: `bot` (chat adapters + job core, no ML runtime), `worker-cpu` (ONNX Runtime on every core) and
# `worker-gpu` (TensorFlow.js on CUDA). Weights and presets live in volumes; secrets come from the environment
# (compose.yaml's env_file), never from the image. Each target answers /healthz on its health port.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Scripts off: the optional TensorFlow bindings would download libtensorflow (only the GPU image wants it,
# and rebuilds it there); better-sqlite3's build is the one install step every image needs.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3
COPY . .
RUN npm run generate

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
# Fonts for the labels of the side-by-side image.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core tini \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production DATA_DIR=/data STYLIZE_WEIGHTS_DIR=/weights PRESETS_DIR=/data/presets
RUN mkdir -p /data /weights && chown node:node /data /weights
VOLUME ["/data", "/weights"]
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]

FROM runtime AS bot
COPY --from=deps --chown=node:node /app /app
# The bot never loads the engine: leave the ML runtimes out of its image.
RUN rm -rf node_modules/onnxruntime-node node_modules/@tensorflow
ENV BOT_WORKERS=0
# The health server (src/health.ts): /healthz, /readyz, /metrics on HEALTH_PORT (9090).
EXPOSE 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD node -e "fetch('http://127.0.0.1:9090/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]

FROM runtime AS worker-cpu
COPY --from=deps --chown=node:node /app /app
ENV WORKER_BACKEND=onnx
EXPOSE 9091
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD node -e "fetch('http://127.0.0.1:9091/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "worker/main.ts"]

# @tensorflow/tfjs-node-gpu 4.x runs on CUDA 11.8 with cuDNN 8.
FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04 AS worker-gpu
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core tini python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY --from=node:20-bookworm-slim /usr/local/bin/node /usr/local/bin/node
COPY --from=node:20-bookworm-slim /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
COPY --from=deps /app /app
# The GPU binding downloads libtensorflow in its install script, which runs here, on a host with internet.
RUN npm rebuild @tensorflow/tfjs-node-gpu \
    && useradd --system --uid 1001 stylize && mkdir -p /data /weights && chown -R stylize /app /data /weights
ENV NODE_ENV=production DATA_DIR=/data STYLIZE_WEIGHTS_DIR=/weights PRESETS_DIR=/data/presets \
    WORKER_BACKEND=tensorflow-gpu
VOLUME ["/data", "/weights"]
USER stylize
EXPOSE 9091
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD node -e "fetch('http://127.0.0.1:9091/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "worker/main.ts"]
