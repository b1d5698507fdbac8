/**
 * `npm run gpu-check`: what a GPU host offers this bot, as one JSON report on stdout (progress on stderr):
 * the execution providers found and their devices (or why not), what `auto` picks, ms per L-BFGS iteration
 * at 256 and 512 px on the paper's layers with random weights, each GPU provider's loss and gradient against
 * the CPU provider's, and one whole job's time and final loss on each.
 *
 *   npm run gpu-check -- [--sizes 256,512] [--iterations 10] [--job-size 384] [--job-iterations 300]
 *                        [--backends onnx,onnx-webgpu] [--weights random|DIR]
 *   npm run gpu-check -- --pack DIR     one self-contained archive of this check (see gpu-pack.ts)
 *
 * Without --backends every ONNX Runtime provider found is timed, except a software WebGPU adapter (seconds per
 * iteration at these sizes: name it in --backends, with small sizes).
 */
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { ONNX_BACKENDS, type OnnxBackend } from '../engine/backends.ts';
import { chooseBackend, createEvaluator, type Evaluator, rgbImage, stylize } from '../engine/index.ts';
import { weightsFromStrength } from '../engine/losses.ts';
import { deepestLayer, LAYER_SETS, loadVggWeights, randomVggWeights } from '../engine/vgg.ts';
import { crossCheck, measureIterations, noise, round } from './measure.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,512' },
    iterations: { type: 'string', default: '10' },
    'job-size': { type: 'string', default: '384' },
    'job-iterations': { type: 'string', default: '300' },
    backends: { type: 'string' },
    weights: { type: 'string', default: 'random' },
    pack: { type: 'string' },
  },
});

if (args.pack) {
  const { packGpuCheck } = await import('./gpu-pack.ts');
  await packGpuCheck(args.pack);
} else {
  process.stdout.write(`${JSON.stringify(await gpuCheck(), null, 2)}\n`);
}

async function gpuCheck() {
  const progress = (line: string) => process.stderr.write(`gpu-check: ${line}\n`);
  const layers = { style: [...LAYER_SETS.paper.style], content: [...LAYER_SETS.paper.content] };
  const deepest = deepestLayer([...layers.style, ...layers.content]);
  const weights =
    args.weights === 'random' ? randomVggWeights(deepest, 1, 1) : await loadVggWeights(args.weights, deepest);
  const requested = args.backends?.split(',');
  for (const b of requested ?? []) {
    if (!(ONNX_BACKENDS as readonly string[]).includes(b))
      throw new Error(`--backends: "${b}" is not one of ${ONNX_BACKENDS.join(', ')}`);
  }

  const providers = [];
  const timed: OnnxBackend[] = [];
  for (const backend of ONNX_BACKENDS) {
    try {
      const { device, software } = await chooseBackend(backend);
      providers.push({ backend, available: true, device, ...(software ? { software } : {}) });
      if (requested ? requested.includes(backend) : !software) timed.push(backend);
    } catch (error) {
      providers.push({ backend, available: false, reason: (error as Error).message });
    }
    progress(`${backend}: ${JSON.stringify(providers.at(-1))}`);
  }
  const auto = await chooseBackend('auto');
  progress(`auto: ${auto.backend} on ${auto.device}`);

  const iterations = [];
  const jobs = [];
  const reference = await createEvaluator({ backend: 'onnx', weights, layers });
  try {
    for (const backend of timed) {
      const evaluator: Evaluator =
        backend === 'onnx' ? reference : await createEvaluator({ backend, weights, layers });
      try {
        for (const size of args.sizes.split(',').map(Number)) {
          const [content, style] = [noise(size, 1), noise(size, 2)];
          const result = await measureIterations(evaluator, {
            content,
            style,
            layers,
            weights,
            iterations: Number(args.iterations),
          });
          const line = {
            backend,
            size,
            msPerIteration: result.msPerIteration,
            evaluateMs: result.evaluateMs,
            optimizerMs: result.optimizerMs,
            gflops: result.gflops,
            ...(backend === 'onnx'
              ? {}
              : { crossCheck: await crossCheck(evaluator, reference, { content, style, layers }) }),
          };
          iterations.push(line);
          progress(JSON.stringify(line));
        }
        const job = await wholeJob(evaluator, layers);
        jobs.push({ backend, ...job });
        progress(`job on ${backend}: ${JSON.stringify(job)}`);
      } finally {
        if (evaluator !== reference) evaluator.dispose();
      }
    }
  } finally {
    reference.dispose();
  }
  const cpuJob = jobs.find((j) => j.backend === 'onnx');
  return {
    node: process.version,
    onnxruntime: ort.env.versions.node,
    cpu: { model: cpus()[0]?.model.trim(), cores: availableParallelism() },
    executionProviders: ort.listSupportedBackends(),
    providers,
    auto,
    layers: 'paper',
    weights: args.weights === 'random' ? 'random' : 'real',
    iterations,
    job: {
      size: Number(args['job-size']),
      iterations: Number(args['job-iterations']),
      results: jobs.map((j) => ({
        ...j,
        ...(cpuJob && j !== cpuJob
          ? {
              speedup: Number((cpuJob.seconds / j.seconds).toPrecision(3)),
              lossRelativeToCpu: Number((Math.abs(j.loss - cpuJob.loss) / cpuJob.loss).toExponential(2)),
            }
          : {}),
      })),
    },
  };
}

/** One default job (coarse to fine, L-BFGS) on a synthetic photo and painting, the same for every backend. */
async function wholeJob(evaluator: Evaluator, layers: { style: string[]; content: string[] }) {
  const size = Number(args['job-size']);
  const [width, height] = [size, Math.round((size * 3) / 4)];
  // Smooth colour ramps with a few edges: a photo-like content image that needs no decoder.
  const content = rgbImage(
    width,
    height,
    Float32Array.from({ length: width * height * 3 }, (_, i) => {
      const [x, y, c] = [Math.floor(i / 3) % width, Math.floor(i / 3 / width), i % 3];
      return (((x * (c + 1) * 255) / width + (y > height / 2 ? 80 : 0) + (x > width / 3 ? 40 : 0)) % 256) | 0;
    }),
  );
  const result = await stylize(evaluator, {
    content,
    styles: [{ image: noise(size, 2) }],
    size,
    iterations: Number(args['job-iterations']),
    layers,
    weights: weightsFromStrength(50, layers),
    seed: 0,
  });
  return { seconds: round(result.ms / 1000), loss: result.loss };
}
