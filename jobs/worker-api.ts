/**
 * What the worker processes (worker/) use of the job system: open it, claim jobs they can paint (the fair,
 * atomic claim), hold them (heartbeat, progress, cancel flag), end them, take back dead workers' jobs, report
 * themselves with what they can paint, and register the job gauges of their health server. The chat adapters'
 * entry is rules/index.ts; neither side reaches past its entry into the job system's modules.
 */
export {
  type CoreConfig,
  type DataPaths,
  type JobDefaults,
  parseCoreConfig,
  parseDataPaths,
  parseJobDefaults,
} from './config.ts';
export { type Core, openCore } from './core.ts';
export { UserError } from './errors.ts';
export { registerJobGauges } from './gauges.ts';
export { ImageTooLargeError, type StoredImage } from './image-store.ts';
export { decodeOptions, decodeStyleRefs } from './job-row.ts';
export {
  completeJob,
  endJob,
  heartbeat,
  type Lease,
  loadJob,
  releaseJob,
  requeueStale,
  writeProgress,
} from './jobs.ts';
export type { JobOptions } from './options.ts';
export { abortableSleep, isTransient, retryTransient } from './retry.ts';
export { claimJob } from './scheduler.ts';
export { requirePaintableShape } from './shape.ts';
export {
  type Capability,
  claimableSizes,
  type LayerSetName,
  measuredSpeed,
  workerAlive,
  workerGone,
} from './workers.ts';
