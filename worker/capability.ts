import type { Backend } from '../engine/backends.ts';
import { largestSide } from '../engine/memory.ts';
import { LAYER_SETS, type LayerSetName, resolveLayers, usableLayerSets } from '../engine/vgg.ts';
import type { Capability } from '../jobs/worker-api.ts';
import { type LayersChoice, SIZE } from '../lib/request-rules.ts';

/**
 * What this process can paint, decided once at its start: the layer sets its weights hold, the operator's
 * STYLIZE_LAYERS resolved against them (`auto`: the paper's layers where the weights hold blocks 4-5, else the
 * shallow ones, with a warning), and for each set the largest size its memory fits (engine/memory.ts). A worker
 * records it with its heartbeat (jobs/workers.ts): it claims only what it can paint, and the bot refuses what
 * no worker can; the CLI resolves its `--layers` default the same way.
 */

/** Share of the memory available at start that paintings may plan on: the rest is the estimate's headroom. */
export const MEMORY_SHARE = 0.9;

export interface LayersResolution {
  /** The layer set to paint with; undefined where the setting cannot be painted here (`problem` says why). */
  layers: LayerSetName | undefined;
  /** `auto` fell back to the shallow layers: one line for the operator. */
  warning?: string | undefined;
  /** One line for the operator: why the setting cannot be painted with these weights, and what to do. */
  problem?: string | undefined;
}

const DOWNLOAD = '`stylize weights download`';

/** Where a layers setting came from, for its messages: its name, and how to choose the shallow layers there. */
export interface SettingSource {
  name: string;
  shallow: string;
}

export const ENVIRONMENT: SettingSource = {
  name: 'STYLIZE_LAYERS',
  shallow: 'set STYLIZE_LAYERS=shallow (or auto)',
};

/**
 * The layer set `setting` paints with the weights at `dir`, given which sets they hold (usableLayerSets); a
 * setting they cannot paint gives the `problem`, naming the setting as `source` does.
 */
export function resolveLayersSetting(
  setting: LayersChoice,
  weights: Awaited<ReturnType<typeof usableLayerSets>>,
  dir: string,
  source: SettingSource = ENVIRONMENT,
): LayersResolution {
  const { usable, unusable } = weights;
  if (setting !== 'auto') {
    if (usable.includes(setting)) return { layers: setting };
    const or = setting === 'paper' && usable.includes('shallow') ? `, or ${source.shallow}` : '';
    return {
      layers: undefined,
      problem: `cannot paint with the ${setting} layers (${source.name}): ${unusable[setting]}${or}`,
    };
  }
  if (usable.includes('paper')) return { layers: 'paper' };
  if (usable.includes('shallow')) {
    const { style, content } = LAYER_SETS.shallow;
    return {
      layers: 'shallow',
      warning:
        `the weights at ${dir} hold VGG-19 blocks 1-3 only: painting with the shallow layers (style ` +
        `${style.join(', ')}; content ${content.join(', ')}), not the paper's; install the full weights with ` +
        `${DOWNLOAD} to paint with those`,
    };
  }
  const reason = unusable.shallow ?? `no VGG-19 weights at ${dir}`;
  return {
    layers: undefined,
    problem: `cannot paint: ${reason}${reason.includes(DOWNLOAD) ? '' : `; install them with ${DOWNLOAD}`}`,
  };
}

export interface CapabilityOptions {
  weightsDir: string;
  /** STYLIZE_LAYERS. */
  setting: LayersChoice;
  backend: Backend;
  device: string;
  /** Jobs painted at once (WORKER_CONCURRENCY). */
  concurrency: number;
  /** Memory this process may use for paintings, bytes (its share of what is available). */
  memoryBytes: number;
}

/** What a worker can paint, and the warning its start logs where `auto` fell back to the shallow layers. */
export async function describeCapability(
  opts: CapabilityOptions,
): Promise<{ capability: Capability; warning: string | undefined }> {
  const weights = await usableLayerSets(opts.weightsDir);
  const resolution = resolveLayersSetting(opts.setting, weights, opts.weightsDir);
  const sizes: Capability['sizes'] = {};
  for (const name of weights.usable) {
    const fits =
      opts.backend === 'auto'
        ? undefined
        : largestSide(opts.memoryBytes, {
            layers: resolveLayers(name),
            backend: opts.backend,
            jobs: opts.concurrency,
          });
    sizes[name] = Math.min(SIZE.max, fits ?? SIZE.max);
  }
  const auto = resolveLayersSetting('auto', weights, opts.weightsDir).layers ?? null;
  return {
    capability: {
      sizes,
      auto,
      backend: opts.backend,
      device: opts.device,
      problem: resolution.problem ?? null,
    },
    warning: resolution.warning,
  };
}
