/**
 * What a member or admin may ask for, in one place: the core validates jobs and preset names against these, the
 * Discord command definitions declare them to Discord, and both adapters offer and check them in their forms.
 * These are the bounds of what the bot can do at all; each server's admins set their own limits inside them
 * (the quotas: src/core/quotas.ts).
 */

/** The longer side of a result, in pixels. */
export const SIZE = { min: 16, max: 4096, default: 384 } as const;

/** The sizes the chat forms offer, smallest first; the middle one is preselected. */
export const OFFERED_SIZES = [
  { label: 'Small', px: 256 },
  { label: 'Medium', px: 384 },
  { label: 'Large', px: 512 },
] as const;

/** Optimiser steps of one painting (each a forward and backward pass of VGG-19). */
export const ITERATIONS = { min: 1, max: 100_000, default: 300 } as const;

/** How strongly the painting's style is applied (see weightsFromStrength); 50 is balanced. */
export const STRENGTH = { min: 0, max: 100, default: 50 } as const;

/** A server's own preset names: also the operator catalogue's ids, and file names without their extension. */
export const PRESET_NAME = {
  maxLength: 40,
  pattern: /^[a-z0-9][a-z0-9_-]{0,39}$/,
  rule: 'A preset name is 1-40 lower-case letters, digits, - or _.',
} as const;
