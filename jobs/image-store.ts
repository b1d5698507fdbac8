import { randomUUID } from 'node:crypto';
import type { Client } from './db.ts';

/** Stills are PNG or JPEG; a timelapse is an animated WebP or GIF. */
export type ImageMime = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';

export interface StoredImage {
  mime: ImageMime;
  bytes: Buffer;
}

/**
 * Where normalised inputs, style images, previews and results live, by opaque reference. The default keeps
 * them in the database, so a worker on another machine needs nothing but the database URL; another store
 * (a bucket) can replace it behind this interface.
 */
export interface ImageStore {
  /** Stores an image and returns its reference. Refuses images over the store's size limit. */
  put(image: StoredImage): Promise<string>;
  /** The image, or undefined when it was deleted (retention) or never existed. */
  get(ref: string): Promise<StoredImage | undefined>;
  /** Deletes images; references that are already gone are ignored. */
  delete(refs: readonly string[]): Promise<void>;
  /** References of the images stored before `before`, in pages of `limit` after the reference `after`. */
  storedBefore(before: Date, page: { after?: string | undefined; limit: number }): Promise<string[]>;
}

export class ImageTooLargeError extends Error {
  override readonly name = 'ImageTooLargeError';
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`an image of ${bytes} bytes is over the image store's limit of ${maxBytes} bytes`);
  }
}

export class DatabaseImageStore implements ImageStore {
  constructor(
    private readonly prisma: Client,
    readonly maxBytes: number,
  ) {}

  async put(image: StoredImage): Promise<string> {
    if (image.bytes.length > this.maxBytes) throw new ImageTooLargeError(image.bytes.length, this.maxBytes);
    const id = randomUUID();
    await this.prisma.image.create({ data: { id, mime: image.mime, bytes: new Uint8Array(image.bytes) } });
    return id;
  }

  async get(ref: string): Promise<StoredImage | undefined> {
    const row = await this.prisma.image.findUnique({ where: { id: ref } });
    if (!row) return undefined;
    return {
      mime: row.mime as ImageMime,
      bytes: Buffer.from(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength),
    };
  }

  async delete(refs: readonly string[]): Promise<void> {
    if (refs.length > 0) await this.prisma.image.deleteMany({ where: { id: { in: [...refs] } } });
  }

  async storedBefore(before: Date, page: { after?: string | undefined; limit: number }): Promise<string[]> {
    const rows = await this.prisma.image.findMany({
      where: { createdAt: { lt: before }, ...(page.after === undefined ? {} : { id: { gt: page.after } }) },
      select: { id: true },
      orderBy: { id: 'asc' },
      take: page.limit,
    });
    return rows.map((r) => r.id);
  }
}
