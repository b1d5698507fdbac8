/**
 * What the chat adapters (src/discord, src/slack) use: open the core once, check a request before downloading
 * its images (checkRequest), submit, vary and cancel jobs, answer status, a member's history (memberHistory) and
 * /stylize-admin, and receive job events through JobEvents. Platform code never touches Prisma.
 * Refusals arrive as UserError, QuotaError or ImageError, each with a message written for the member.
 */
export {
  addPreset,
  type LimitsPatch,
  type LimitsReport,
  listQueue,
  type QueueEntry,
  removePreset,
  setLimits,
  showLimits,
} from './admin.ts';
export { type Actor, cancelJob } from './cancel.ts';
export { PAINTING_UNAVAILABLE_TEXT } from './capacity.ts';
export { checkRequest, requestLimits } from './check-request.ts';
export { type CoreConfig, type JobDefaults, parseCoreConfig } from './config.ts';
export { type Core, openCore } from './core.ts';
export { UserError } from './errors.ts';
export type { FinalDelivery, JobEvents, JobProgress, ResultImages } from './events.ts';
export { HISTORY_LENGTH, type HistoryEntry, memberHistory } from './history.ts';
export type { StoredImage } from './image-store.ts';
export { type JobStatus, type JobView, jobTimelapse, setChatRefs } from './jobs.ts';
export { type Notifier, startNotifier } from './notifier.ts';
export {
  type CheckedOptions,
  type JobOptions,
  type JobOptionsInput,
  LARGER_FACTOR,
  VARIATIONS,
  type VariationKind,
} from './options.ts';
export { plural } from './plural.ts';
export { presetImage } from './preset-image.ts';
export { describePresets, type PresetInfo } from './presets.ts';
export { LIMIT_NAMES, type LimitName, QuotaError } from './quotas.ts';
export { purgeExpired, startRetention } from './retention.ts';
export { PLATFORMS, type Platform, type ServerRef } from './servers.ts';
export type { ImageSubject } from './shape.ts';
export { type JobStatusReport, jobStatus } from './status.ts';
export { checkImages, type Submission, type SubmitRequest, submitJob } from './submit.ts';
export {
  checkVariation,
  STRENGTH_STEP,
  submitVariation,
  type VariationRequest,
  variationChoices,
} from './variations.ts';
