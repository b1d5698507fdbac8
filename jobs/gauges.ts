import { Gauge } from 'prom-client';
import { registry } from '../lib/metrics.ts';
import type { Database } from './db.ts';

let jobGauges: { queue: Gauge<'platform' | 'server'>; status: Gauge<'status'> } | undefined;

/**
 * Registers, in the process's registry (lib/metrics.ts, served by lib/health.ts), the gauges computed from the
 * database on each scrape: queue depth per server, jobs by status. Once per process; later calls do nothing.
 */
export function registerJobGauges(db: Database): void {
  if (jobGauges) return;
  const queue: Gauge<'platform' | 'server'> = new Gauge({
    name: 'stylize_queue_depth',
    help: 'Queued jobs, by server',
    labelNames: ['platform', 'server'] as const,
    registers: [registry],
    async collect() {
      const counts = await db.prisma.job.groupBy({
        by: ['serverId'],
        where: { status: 'queued' },
        _count: { _all: true },
      });
      const servers = await db.prisma.server.findMany({
        where: { id: { in: counts.map((c) => c.serverId) } },
        select: { id: true, platform: true, externalId: true },
      });
      const byId = new Map(servers.map((s) => [s.id, s]));
      queue.reset();
      for (const c of counts) {
        const server = byId.get(c.serverId);
        if (server) queue.set({ platform: server.platform, server: server.externalId }, c._count._all);
      }
    },
  });
  const status: Gauge<'status'> = new Gauge({
    name: 'stylize_jobs',
    help: 'Jobs in the database, by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await db.prisma.job.groupBy({ by: ['status'], _count: { _all: true } });
      status.reset();
      for (const c of counts) status.set({ status: c.status }, c._count._all);
    },
  });
  jobGauges = { queue, status };
}
