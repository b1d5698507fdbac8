/**
 * What the chat adapters (discord, slack) use: open the core once, check a request before downloading
 * its images (checkRequest), submit, vary and cancel jobs, answer status, a member's history (memberHistory) and
 * /stylize-admin, and receive job events through JobEvents. Platform code never touches Prisma.
 * Refusals arrive as UserError, QuotaError or ImageError, each with a message written for the member.
 */

export { PAINTING_UNAVAILABLE_TEXT } from '../jobs/capacity.ts';
export { type CoreConfig, type JobDefaults, parseCoreConfig } from '../jobs/config.ts';
export { type Core, openCore } from '../jobs/core.ts';
export { UserError } from '../jobs/errors.ts';
export type { FinalDelivery, JobEvents, JobProgress, ResultImages } from '../jobs/events.ts';
export type { StoredImage } from '../jobs/image-store.ts';
export { type JobStatus, type JobView, jobTimelapse, setChatRefs } from '../jobs/jobs.ts';
export { type Notifier, startNotifier } from '../jobs/notifier.ts';
export {
  type CheckedOptions,
  type JobOptions,
  type JobOptionsInput,
  LARGER_FACTOR,
  VARIATIONS,
  type VariationKind,
} from '../jobs/options.ts';
export { plural } from '../jobs/plural.ts';
export { purgeExpired, startRetention } from '../jobs/retention.ts';
export { PLATFORMS, type Platform, type ServerRef } from '../jobs/servers.ts';
export type { ImageSubject } from '../jobs/shape.ts';
export { type JobStatusReport, jobStatus } from '../jobs/status.ts';
export { describePresets, type PresetInfo, presetImage } from '../presets/index.ts';
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
export { type MemberAllowance, memberAllowance } from './allowance.ts';
export { type Actor, cancelJob } from './cancel.ts';
export { checkRequest, requestLimits } from './check-request.ts';
export { deletePainting } from './deletion.ts';
export { HISTORY_LENGTH, type HistoryEntry, memberHistory } from './history.ts';
export { LIMIT_NAMES, type LimitName, QuotaError } from './quotas.ts';
export { checkImages, type Submission, type SubmitRequest, submitJob } from './submit.ts';
export {
  checkVariation,
  STRENGTH_STEP,
  submitVariation,
  type VariationRequest,
  variationChoices,
} from './variations.ts';
