#!/bin/sh
# The production dependencies of the images, into ./node_modules beside package.json and package-lock.json.
# npm keeps a dev dependency that is also an optional peer of a production one (prisma and typescript, optional
# peers of @prisma/client) even with --omit=dev (npm/cli#7772), so this installs from a package.json reduced to
# its `dependencies`, at the lockfile's versions. That also leaves out the optional TensorFlow bindings
# (libtensorflow for CUDA 11, which no image has) and the root scripts (client generation: done in the build).
# The install scripts that run are those allowScripts approves; ONNXRUNTIME_NODE_INSTALL tells ONNX Runtime's
# whether to fetch its CUDA provider.
set -eu
npm pkg delete devDependencies optionalDependencies scripts
npm install --omit=dev --no-audit --no-fund
# ONNX Runtime ships binaries for every OS and CPU (245 MB): keep this one's. Source maps (200 MB) serve
# nothing at run time.
find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 2 -maxdepth 2 \
  ! -path "*/linux/$(node -p process.arch)" -exec rm -rf {} +
# Dawn's Node binding (which tells a hardware WebGPU adapter from a software one) likewise: 132 MB for five.
find node_modules/webgpu/dist -mindepth 1 -maxdepth 1 -type d ! -name "linux-$(node -p process.arch)" -exec rm -rf {} +
find node_modules -name '*.map' -delete
