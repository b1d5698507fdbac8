import { z } from 'zod';
import { BACKENDS, type Backend } from '../engine/index.ts';
import { type CoreConfig, parseCoreConfig } from '../jobs/worker-api.ts';
import {
  type Env,
  type ProcessConfig,
  parseEnv,
  parseLocalWorkers,
  parseProcessConfig,
  positive,
} from '../lib/env.ts';
import { type HealthConfig, parseHealthConfig } from '../lib/health.ts';
import { defaultWeightsDir } from '../lib/weights-location.ts';

/**
 * A worker process's settings: the core's (its database and the job system's timings), its health server's,
 * and its own (the engine's backend, its weights, how many jobs it paints at once). Nothing of the chat
 * platforms: a worker starts whatever their variables hold.
 */
const workerSchema = z.object({
  /**
   * Jobs one worker process paints at once, on shared sessions; they take turns on the device, so more than
   * one mainly overlaps one job's optimiser steps, image encoding and database writes with another's graph.
   */
  WORKER_CONCURRENCY: positive(1),
  /**
   * Compute backend of the workers: auto (the fastest real device: onnx-cuda, tensorflow-gpu, onnx-webgpu on
   * a hardware adapter, else onnx), or one by name: onnx, onnx-cuda, onnx-webgpu, tensorflow-gpu,
   * tensorflow, wasm, cpu. A worker whose named backend cannot run here does not start.
   */
  WORKER_BACKEND: z.enum(BACKENDS, { error: `must be one of ${BACKENDS.join(', ')}` }).default('auto'),
});

export interface WorkerSettings {
  /** STYLIZE_WEIGHTS_DIR, else the per-user cache (see defaultWeightsDir). */
  weightsDir: string;
  backend: Backend;
  concurrency: number;
  /** BOT_WORKERS: the worker processes sharing this machine's cores and memory. */
  localWorkers: number;
}

export interface WorkerConfig {
  process: ProcessConfig;
  core: CoreConfig;
  health: HealthConfig;
  worker: WorkerSettings;
}

/** The worker's own settings (WORKER_*, STYLIZE_WEIGHTS_DIR, BOT_WORKERS). */
export function parseWorkerSettings(env: Env): WorkerSettings {
  const e = parseEnv(workerSchema, env);
  return {
    weightsDir: defaultWeightsDir(env),
    backend: e.WORKER_BACKEND,
    concurrency: e.WORKER_CONCURRENCY,
    localWorkers: parseLocalWorkers(env),
  };
}

/** Everything `npm run worker` reads, once, at its start. */
export function loadWorkerConfig(env: Env): WorkerConfig {
  return {
    process: parseProcessConfig(env),
    core: parseCoreConfig(env),
    health: parseHealthConfig(env, 'worker'),
    worker: parseWorkerSettings(env),
  };
}
