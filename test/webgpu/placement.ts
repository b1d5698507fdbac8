/**
 * Builds a session of the paper layers' loss graph on the WebGPU provider with ONNX Runtime's verbose log,
 * which lists on stderr the provider of every node and each copy node added between devices. Run in its own
 * process (the log level is set once per process): `node --import tsx placement.ts avg|max`.
 */
import * as ort from 'onnxruntime-node';
import { buildLossGraph } from '../../engine/onnx/graph.ts';
import { sessionOptions } from '../../engine/onnx/providers.ts';
import { LAYER_SETS, randomVggWeights } from '../../engine/vgg.ts';

const pooling = process.argv[2] === 'max' ? 'max' : 'avg';
const layers = { style: [...LAYER_SETS.paper.style], content: [...LAYER_SETS.paper.content] };
const graph = buildLossGraph(randomVggWeights('conv5_1', 1, 1 / 16), layers, { pooling, backward: 'conv' });
ort.env.logLevel = 'verbose';
const session = await ort.InferenceSession.create(graph.encode(), {
  ...sessionOptions('webgpu', 1),
  logSeverityLevel: 0,
});
await session.release();
