import { MemberFacingError } from '../lib/member-error.ts';
import type { LayersChoice, Limits } from '../lib/request-rules.ts';
import type { Core } from './core.ts';
import { type LayerSetName, paintingCapacity } from './workers.ts';

/** What a member reads when no live worker can paint their request: plain words, the cause in the log. */
export const PAINTING_UNAVAILABLE_TEXT =
  'Painting is unavailable right now because of how I’m set up; the people running me can see why in my logs.';

export interface OperatorBounds {
  /** The operator's limits, the largest size lowered to what the live workers can paint (a ceiling for servers). */
  limits: Limits;
  /** The deepest layer set the request may be painted with: the shapes it can paint depend on it. */
  layers: LayerSetName;
}

/**
 * The operator's bounds on a request with `layers` now: QUOTA_MAX_SIZE and what the live workers can fit,
 * whichever is smaller, and the layers it may be painted with. With no worker alive (starting, or elsewhere and
 * down) the request is accepted to wait in the queue, checked against the paper's layers for an `auto` request (the
 * deepest any worker may use). Throws the operator's MemberFacingError (the member reads that painting is
 * unavailable) when workers are alive but none can paint such a request, unless `refuse` is false (what a form
 * may offer: the refusal comes when the request is made).
 */
export async function operatorBounds(
  core: Core,
  layers: LayersChoice,
  { refuse = true } = {},
): Promise<OperatorBounds> {
  const capacity = await paintingCapacity(core.db, layers, {
    staleAfterMs: core.config.jobs.staleAfterMs,
    now: new Date(),
  });
  const { limits } = core.config;
  switch (capacity.kind) {
    case 'unknown':
      return { limits, layers: layers === 'auto' ? 'paper' : layers };
    case 'available':
      return {
        limits: { ...limits, maxSize: Math.min(limits.maxSize, capacity.maxSize) },
        layers: capacity.layers,
      };
    case 'unavailable':
      if (!refuse) return { limits, layers: layers === 'auto' ? 'paper' : layers };
      throw new MemberFacingError('unavailable', `painting is unavailable: ${capacity.reason}`, {
        audience: 'operator',
        memberText: PAINTING_UNAVAILABLE_TEXT,
      });
  }
}
