#!/bin/sh
# The production dependencies of the images, into ./node_modules beside package.json and package-lock.json; the
# optional dependencies named as arguments are installed too (the GPU worker's `webgpu`).
# npm keeps a dev dependency that is also an optional peer of a production one (prisma and typescript, optional
# peers of @prisma/client) even with --omit=dev (npm/cli#7772), so this installs from a package.json reduced to
# its `dependencies` (and the optional ones named), at the lockfile's versions. That also leaves out the other
# optional dependencies (the TensorFlow bindings, for CUDA 11, which no image has) and the root scripts (client
# generation and the kernels' assembly: done in the build). The install scripts that run are those allowScripts
# approves; ONNXRUNTIME_NODE_INSTALL tells ONNX Runtime's whether to fetch its CUDA provider.
set -eu
keep=""
for name in "$@"; do
  version=$(npm pkg get "optionalDependencies.$name" | tr -d '"')
  case "$version" in
  '{}' | '') echo "install-production: $name is not an optional dependency" >&2 && exit 1 ;;
  esac
  keep="$keep dependencies.$name=$version"
done
npm pkg delete devDependencies optionalDependencies scripts
# After the deletion: npm drops from `dependencies` a package that `optionalDependencies` also names.
[ -z "$keep" ] || npm pkg set $keep
npm install --omit=dev --no-audit --no-fund
# ONNX Runtime ships binaries for every OS and CPU (245 MB): keep this one's. Source maps (200 MB) serve
# nothing at run time.
find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 2 -maxdepth 2 \
  ! -path "*/linux/$(node -p process.arch)" -exec rm -rf {} +
# Dawn's Node binding (which tells a hardware WebGPU adapter from a software one) likewise: 132 MB for five.
if [ -d node_modules/webgpu ]; then
  find node_modules/webgpu/dist -mindepth 1 -maxdepth 1 -type d ! -name "linux-$(node -p process.arch)" -exec rm -rf {} +
fi
find node_modules -name '*.map' -delete
