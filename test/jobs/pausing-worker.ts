/**
 * The real worker loop (worker/loop.ts) with an image store that stops at each of its writes: after storing an
 * image, and before deleting images, it tells the test on stdout ({"reply": {"op": "put" | "delete", "n": …}})
 * and goes on only when a line arrives on stdin. The test kills it there, as a crash at that point would.
 */
import { createInterface } from 'node:readline';
import { openCore } from '../../jobs/core.ts';
import type { ImageStore } from '../../jobs/image-store.ts';
import { createLogger } from '../../lib/log.ts';
import { loadWorkerConfig } from '../../worker/config.ts';
import { startWorker } from '../../worker/loop.ts';
import { Painter } from '../../worker/paint.ts';

const config = loadWorkerConfig(process.env);
const log = createLogger(config.process, 'worker');
const core = await openCore(config.core, log);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
let writes = 0;
async function pause(op: 'put' | 'delete'): Promise<void> {
  writes++;
  process.stdout.write(`${JSON.stringify({ reply: { op, n: writes } })}\n`);
  await lines.next();
}
const store = core.images;
const images: ImageStore = {
  async put(image) {
    const ref = await store.put(image);
    await pause('put');
    return ref;
  },
  get: (ref) => store.get(ref),
  storedBefore: (before, page) => store.storedBefore(before, page),
  async delete(refs) {
    if (refs.length > 0) await pause('delete');
    await store.delete(refs);
  },
};
startWorker(
  { ...core, images },
  new Painter({ weightsDir: config.worker.weightsDir, backend: config.worker.backend }),
);
