import type { JobView } from '../rules/index.ts';

/** A running job as the core shows it to the chat adapters, for rendering and events tests: override what matters. */
export function jobView(extra: Partial<JobView> = {}): JobView {
  return {
    id: 7,
    platform: 'discord',
    server: '111111111111111111',
    channelId: '222222222222222222',
    threadId: null,
    chatRefs: null,
    requesterId: '333333333333333333',
    status: 'running',
    options: { size: 384, iterations: 300, strength: 50, layers: 'paper', preserveColors: false },
    styles: [{ name: 'starry_night', weight: 1 }],
    iteration: 0,
    converged: false,
    loss: null,
    etaMs: null,
    attempts: 1,
    error: null,
    createdAt: new Date(),
    startedAt: null,
    finishedAt: null,
    deletedAt: null,
    variationOf: null,
    ...extra,
  };
}
