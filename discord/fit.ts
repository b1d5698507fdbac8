import { decodeImage, encodeImage } from '../lib/images/index.ts';
import type { StoredImage } from '../rules/index.ts';

/** An image to upload: the file name's extension follows the format it ends up in. */
export interface UploadImage {
  /** Without extension: `painting-12`. */
  baseName: string;
  image: StoredImage;
}

export interface FittedFile {
  name: string;
  data: Buffer;
  contentType: StoredImage['mime'];
}

/** Room left for the message's JSON and the multipart framing. */
export const OVERHEAD_BYTES = 64 * 1024;
const JPEG_QUALITY = 85;
const MIN_SIDE = 64;
const MAX_ROUNDS = 12;

const extension = (mime: StoredImage['mime']) => (mime === 'image/png' ? 'png' : 'jpg');

/**
 * Makes images fit one message under Discord's upload limit (all files together): while they are too big the
 * largest is re-encoded, first as JPEG at its size, then scaled down. Images that fit are sent untouched.
 */
export async function fitToUpload(images: readonly UploadImage[], limitBytes: number): Promise<FittedFile[]> {
  const budget = Math.max(1, limitBytes - OVERHEAD_BYTES);
  const files = images.map((item) => ({
    ...item,
    current: item.image,
    side: undefined as number | undefined,
  }));
  const total = () => files.reduce((sum, f) => sum + f.current.bytes.length, 0);
  for (let round = 0; total() > budget; round++) {
    if (round >= MAX_ROUNDS) throw new Error(`images of ${total()} bytes cannot be fitted into ${budget}`);
    const largest = files.reduce((a, b) => (b.current.bytes.length > a.current.bytes.length ? b : a));
    const decoded = await decodeImage(largest.image.bytes);
    const fullSide = Math.max(decoded.width, decoded.height);
    if (largest.current.mime === 'image/png' && largest.side === undefined) {
      largest.current = {
        mime: 'image/jpeg',
        bytes: await encodeImage(decoded, 'jpeg', { quality: JPEG_QUALITY }),
      };
      largest.side = fullSide;
      continue;
    }
    // Scale by the square root of the size ratio (bytes go with the pixel count), a little more to converge.
    const share = (budget * largest.current.bytes.length) / total();
    const scale = Math.min(0.9, Math.max(0.3, Math.sqrt(share / largest.current.bytes.length) * 0.95));
    const side = Math.round((largest.side ?? fullSide) * scale);
    if (side < MIN_SIDE) throw new Error(`images cannot be fitted into ${budget} bytes`);
    const smaller = await decodeImage(largest.image.bytes, { maxSide: side });
    largest.current = {
      mime: 'image/jpeg',
      bytes: await encodeImage(smaller, 'jpeg', { quality: JPEG_QUALITY }),
    };
    largest.side = side;
  }
  return files.map((f) => ({
    name: `${f.baseName}.${extension(f.current.mime)}`,
    data: f.current.bytes,
    contentType: f.current.mime,
  }));
}
