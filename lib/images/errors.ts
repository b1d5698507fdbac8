import { MemberFacingError } from '../member-error.ts';
import { IMAGE_FORMAT_NAMES as SUPPORTED } from './formats.ts';

export type ImageErrorCode = 'empty' | 'unsupported' | 'corrupt' | 'too-large';

/**
 * A file a user sent that we cannot use as an image. `message` is written for that user:
 * the bot posts it to chat as is, so it says what is wrong and what to do, with no internals.
 */
export class ImageError extends MemberFacingError {
  override readonly name = 'ImageError';
  declare readonly code: ImageErrorCode;

  constructor(code: ImageErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, { cause: options?.cause });
  }

  static empty(): ImageError {
    return new ImageError('empty', 'That file is empty; there is no image in it.');
  }

  /** `format` names what the file turned out to be, where the message can then say what to do instead. */
  static unsupported(format?: 'heic'): ImageError {
    // iPhones save HEIC by default, so say what to do about it rather than just "not supported".
    if (format === 'heic') {
      return new ImageError(
        'unsupported',
        `That is a HEIC photo, which I can't read. Please send it as ${SUPPORTED} instead.`,
      );
    }
    return new ImageError('unsupported', `That file is not an image I can read (${SUPPORTED}).`);
  }

  static corrupt(cause: unknown): ImageError {
    return new ImageError(
      'corrupt',
      "That image file is damaged or cut off, so I can't read it. Try sending it again.",
      { cause },
    );
  }

  static tooLarge(width: number, height: number, maxPixels: number): ImageError {
    const limit = Number((maxPixels / 1e6).toPrecision(2));
    return new ImageError(
      'too-large',
      `That image is ${width}×${height} pixels; the limit is ${limit} megapixels.`,
    );
  }
}
