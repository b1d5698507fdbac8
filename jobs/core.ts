import type { Logger } from '../lib/log.ts';
import type { CoreConfig } from './config.ts';
import { type Database, openDatabase } from './db.ts';
import { DatabaseImageStore, type ImageStore } from './image-store.ts';

/** What every core operation needs, opened once per process (bot or worker). */
export interface Core {
  readonly config: CoreConfig;
  readonly db: Database;
  readonly images: ImageStore;
  readonly log: Logger;
  close(): Promise<void>;
}

export async function openCore(config: CoreConfig, log: Logger): Promise<Core> {
  const db = await openDatabase(config.database);
  log.info({ database: db.provider }, 'database ready');
  return {
    config,
    db,
    images: new DatabaseImageStore(db.prisma, config.jobs.maxImageBytes),
    log,
    close: () => db.close(),
  };
}
