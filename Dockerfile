# syntax=docker/dockerfile:1
# Targets: `bot` (chat adapters + job core, no ML runtime), `worker-cpu` (ONNX Runtime's CPU execution provider)
# and `worker-gpu` (ONNX Runtime's CUDA and WebGPU execution providers on an NVIDIA GPU). Every target runs the
# compiled JavaScript of dist/ with plain `node` 24, holds only production dependencies, and runs as uid:gid
# 1000:1000 (shared volumes stay writable across them). Weights and presets live in volumes; secrets come from
# the environment (compose.yaml's env_file), never from the image; a fresh volume takes the owner of the
# directory it is mounted on, so each mount point exists in the image, owned by 1000. Each target answers
# /healthz on its health port.

ARG NODE_IMAGE=node:24-bookworm-slim
# CUDA 12 + cuDNN 9: what ONNX Runtime 1.30's CUDA execution provider is built for (any CUDA 12 minor works).
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# ---- build: dev tools (TypeScript, the Prisma CLI) compile dist/ and stay in this stage.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: compiling and generating the Prisma client need no native module.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# ---- production dependencies, on Debian (the bot and the CPU worker).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json scripts/install-production.sh ./
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN ./install-production.sh

# The bot runs no painting: the same install less what only the engine and the CLI load (the ML runtimes and
# ONNX graph encoding; the CLI's argument parser and progress bars).
FROM deps AS bot-deps
RUN npm uninstall --no-audit --no-fund onnxruntime-node protobufjs @tensorflow/tfjs @tensorflow/tfjs-backend-wasm \
    commander cli-progress

FROM ${NODE_IMAGE} AS runtime
# Fonts for the labels of the side-by-side image. /data/presets is made here, owned by the app's user, because a
# new volume mounted on it takes its owner: the bot then copies the bundled paintings into it on first start.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core tini \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data/presets /weights && chown 1000:1000 /data /data/presets /weights
WORKDIR /app
ENV NODE_ENV=production DATA_DIR=/data STYLIZE_WEIGHTS_DIR=/weights PRESETS_DIR=/data/presets
VOLUME ["/data", "/weights"]
# The app's files stay root's (read-only to the process); `node` is uid 1000 in the node images.
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--"]

FROM runtime AS bot
COPY package.json ./
COPY --from=bot-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
ENV BOT_WORKERS=0
# The health server (lib/health.ts): /healthz, /readyz, /metrics on HEALTH_PORT (9090).
EXPOSE 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD node -e "fetch('http://127.0.0.1:9090/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/bot/main.js"]

FROM runtime AS worker-cpu
COPY package.json ./
COPY bin bin
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
ENV WORKER_BACKEND=onnx
EXPOSE 9091
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD node -e "fetch('http://127.0.0.1:9091/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/worker/main.js"]

# ---- the GPU worker: one base, CUDA 12 + cuDNN 9 on Ubuntu, for its native modules and for running them.
# Node.js is the official build from the node image (the nodejs.org binary, which needs only glibc 2.28).
FROM ${NODE_IMAGE} AS node-dist
FROM ${CUDA_IMAGE} AS cuda-node
COPY --from=node-dist /usr/local/bin/node /usr/local/bin/node
COPY --from=node-dist /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx

FROM cuda-node AS gpu-deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json scripts/install-production.sh ./
# ONNX Runtime's install script fetches its CUDA 12 execution provider (the build needs internet). webgpu, an
# optional dependency, lets `auto` tell a hardware WebGPU adapter from a software one.
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
RUN ./install-production.sh webgpu

FROM cuda-node AS worker-gpu
# libvulkan1 and libglvnd0: the Vulkan loader and GL dispatch, through which the WebGPU provider reaches the
# driver's Vulkan.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core tini libvulkan1 libglvnd0 \
    && rm -rf /var/lib/apt/lists/* \
    && (getent passwd 1000 >/dev/null || useradd --uid 1000 --user-group --create-home stylize) \
    && mkdir -p /data/presets /weights && chown 1000:1000 /data /data/presets /weights
WORKDIR /app
COPY package.json ./
COPY bin bin
COPY --from=gpu-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
# `graphics` lets the NVIDIA container runtime mount the driver's Vulkan ICD for the WebGPU provider.
ENV NODE_ENV=production DATA_DIR=/data STYLIZE_WEIGHTS_DIR=/weights PRESETS_DIR=/data/presets \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics WORKER_BACKEND=auto XDG_RUNTIME_DIR=/tmp
VOLUME ["/data", "/weights"]
USER 1000:1000
EXPOSE 9091
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD node -e "fetch('http://127.0.0.1:9091/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/worker/main.js"]
