/**
 * A claiming process for the concurrency tests: each line "claim" on stdin makes one claim (the scheduler's,
 * as a worker makes it) and answers one JSON line on stdout: {"reply": {"lease": …}} ({"lease": null}: nothing to claim). Separate
 * processes have separate database connections, as real workers do.
 */
import { createInterface } from 'node:readline';
import { parseCoreConfig } from '../../jobs/config.ts';
import { openCore } from '../../jobs/core.ts';
import { claimJob } from '../../jobs/scheduler.ts';
import { parseProcessConfig } from '../../lib/env.ts';
import { createLogger } from '../../lib/log.ts';
import { PAINTS_ANY } from '../job-system.ts';

const config = parseCoreConfig(process.env);
const core = await openCore(config, createLogger(parseProcessConfig(process.env), 'claimer'));
const name = `claimer-${process.pid}`;
const reply = (body: unknown) => process.stdout.write(`${JSON.stringify({ reply: body })}\n`);
reply({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== 'claim') continue;
  try {
    const lease = await claimJob(core.db, name, config.limits, PAINTS_ANY);
    reply({ lease: lease ?? null });
  } catch (error) {
    reply({ error: String(error) });
  }
}
await core.close();
