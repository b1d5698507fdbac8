/**
 * What a member or admin may ask for, in one place: the core validates jobs, limits and preset names against
 * these, the Discord command definitions declare them to Discord, and both adapters offer and check them in their
 * forms. These are the bounds of what the bot can do at all; each server's admins set their own limits inside
 * them (the quotas: rules/quotas.ts), and the forms offer only what a server's limits allow
 * ({@link sizesAllowed}, {@link defaultsWithin}).
 */

/** The longer side of a result, in pixels. */
export const SIZE = { min: 16, max: 4096, default: 384 } as const;

/** The sizes the chat forms offer, smallest first: those a server's limit allows (sizesAllowed). */
export const OFFERED_SIZES = [
  { label: 'Small', px: 256 },
  { label: 'Medium', px: 384 },
  { label: 'Large', px: 512 },
] as const;

/** Optimiser steps of one painting (each a forward and backward pass of VGG-19). */
export const ITERATIONS = { min: 1, max: 100_000, default: 300 } as const;

/** How strongly the painting's style is applied (see weightsFromStrength); 50 is balanced. */
export const STRENGTH = { min: 0, max: 100, default: 50 } as const;

/**
 * The VGG-19 layers a painting uses (the operator's STYLIZE_LAYERS): `paper` (Gatys et al.: style conv1_1…conv5_1,
 * content conv4_2; the full weights), `shallow` (style conv1_1, conv2_1, conv3_1, content conv3_2: blocks 1-3, 3-4×
 * faster), or `auto`: the paper's where the worker that paints it holds blocks 4-5, else the shallow ones.
 */
export const LAYERS = ['auto', 'paper', 'shallow'] as const;
export type LayersChoice = (typeof LAYERS)[number];

/** A server's own preset names: also the operator catalogue's ids, and file names without their extension. */
export const PRESET_NAME = {
  maxLength: 40,
  pattern: /^[a-z0-9][a-z0-9_-]{0,39}$/,
  rule: 'A preset name is 1-40 lower-case letters, digits, - or _.',
} as const;

/**
 * The limits a server's admins set: the name they type (Slack's `quota set NAME=…`, Discord's option names) and
 * the values allowed. The largest size and the most iterations cannot go below what one painting needs, so a
 * server whose admins allow painting at all always has a request its members can make; `server_daily=0` turns
 * painting off.
 */
export const LIMIT_RULES = {
  serverDailyJobs: { key: 'server_daily', min: 0, max: 100_000 },
  memberDailyJobs: { key: 'member_daily', min: 0, max: 100_000 },
  memberActiveJobs: { key: 'member_concurrent', min: 0, max: 100 },
  maxSize: { key: 'max_size', min: SIZE.min, max: SIZE.max },
  maxIterations: { key: 'max_iterations', min: ITERATIONS.min, max: ITERATIONS.max },
  serverRunningJobs: { key: 'server_running', min: 1, max: 100 },
  memberRunningJobs: { key: 'member_running', min: 1, max: 100 },
} as const satisfies Record<string, { key: string; min: number; max: number }>;

/** Limits per server: the operator's defaults (QUOTA_*), each of which a server's admins may set for theirs. */
export type Limits = Record<keyof typeof LIMIT_RULES, number>;

/** The limits that bound one request's options. */
export type RequestLimits = Pick<Limits, 'maxSize' | 'maxIterations'>;

/**
 * Which of the `offered` sizes (px, smallest first) a server whose largest size is `maxSize` allows; with the
 * largest size itself when it lies below the largest offered and is not one of them, so the list is never
 * empty and always reaches the limit.
 */
export function sizesAllowed(offered: readonly number[], maxSize: number): number[] {
  const allowed = offered.filter((px) => px <= maxSize);
  const largest = Math.max(...offered);
  if (!allowed.includes(maxSize) && maxSize < largest) allowed.push(maxSize);
  return allowed;
}

/** The size to preselect among `sizes` for a default of `size`: the largest not above it, else the smallest. */
export function preselectSize(sizes: readonly number[], size: number): number {
  const below = sizes.filter((px) => px <= size);
  return below.length > 0 ? Math.max(...below) : Math.min(...sizes);
}

/**
 * The size and iterations a request gets for what the member left out: the deployment's defaults (else the
 * rules' own), lowered to the server's limits, so that leaving an option out never makes a request the server
 * refuses.
 */
export function defaultsWithin(
  defaults: { size?: number | undefined; iterations?: number | undefined },
  limits: RequestLimits,
): { size: number; iterations: number } {
  return {
    size: Math.min(defaults.size ?? SIZE.default, limits.maxSize),
    iterations: Math.min(defaults.iterations ?? ITERATIONS.default, limits.maxIterations),
  };
}
