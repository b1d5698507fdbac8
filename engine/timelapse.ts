import { fitSize, type RgbImage, resize } from './image.ts';

/** How a painting's timelapse is kept: at most `frames` frames whose longer side is `side` pixels. */
export interface TimelapseOptions {
  /** The most frames kept (at least 2: the first image and the result). */
  frames: number;
  /** Longer side of every frame, px; a result smaller than this keeps its own size. */
  side: number;
}

/**
 * The worker's and the CLI's timelapse: 60 frames at most (6 s at 10 frames a second, then the result held), 256 px
 * on the longer side, within the size at which Discord and Slack show an image inline; at most 11.25 MiB of frames
 * (8-bit; a square result) while it paints.
 */
export const DEFAULT_TIMELAPSE: TimelapseOptions = { frames: 60, side: 256 };

/** One frame: 8-bit RGB, `height × width × 3`, row-major (HWC), as the image was after `iteration` steps. */
export interface TimelapseFrame {
  iteration: number;
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/**
 * Keeps small copies of the image as the optimisation goes, evenly spaced over the iterations, in bounded memory
 * whatever their number (which the convergence stop makes unknown in advance): every `stride`-th iteration is
 * recorded, and when one more than allowed would be kept, every other one is dropped and the stride doubles.
 * The first image (iteration 0) is always kept and the result ends the timelapse, so at most `frames` frames
 * are kept, and at least half that once there were enough iterations. Coarse-to-fine scales are resampled to
 * the one frame size (bilinear, upsampling the coarse ones), so the frames show the whole run.
 */
export class FrameRecorder {
  readonly width: number;
  readonly height: number;
  readonly #kept: TimelapseFrame[] = [];
  readonly #cap: number;
  #stride = 1;

  /**
   * `width` × `height`: the result's size (the frames keep its aspect). `finishFrame` turns each frame, at frame
   * size, into what the member sees (the photo's colours put back when only the luminance is optimised).
   */
  constructor(
    width: number,
    height: number,
    options: TimelapseOptions,
    private readonly finishFrame: (frame: RgbImage) => RgbImage = (frame) => frame,
  ) {
    if (!(options.frames >= 2)) throw new Error(`a timelapse needs at least 2 frames, not ${options.frames}`);
    const frame = fitSize(width, height, Math.min(options.side, Math.max(width, height)));
    this.width = frame.width;
    this.height = frame.height;
    // One place is left for the result.
    this.#cap = Math.floor(options.frames) - 1;
  }

  /** Records the image after `iteration` steps if it falls on the stride (its resampling costs nothing otherwise). */
  offer(iteration: number, image: RgbImage): void {
    if (iteration % this.#stride !== 0) return;
    this.#kept.push(this.#frame(iteration, image));
    while (this.#kept.length > this.#cap) {
      this.#stride *= 2;
      const kept = this.#kept.filter((f) => f.iteration % this.#stride === 0);
      this.#kept.splice(0, this.#kept.length, ...kept);
    }
  }

  /**
   * The frames, the last one `result` (after `iteration` steps, as finished: not passed to `finishFrame`) in place
   * of any frame of that iteration.
   */
  finish(iteration: number, result: RgbImage): TimelapseFrame[] {
    const frames = this.#kept.filter((f) => f.iteration < iteration);
    frames.push(this.#frame(iteration, result, (frame) => frame));
    return frames;
  }

  #frame(iteration: number, image: RgbImage, finish = this.finishFrame): TimelapseFrame {
    const sized = image.width === this.width && image.height === this.height;
    const small = finish(sized ? image : resize(image, this.width, this.height));
    // Uint8ClampedArray clamps to 0-255 and rounds: a quarter of the Float32 frame's memory.
    return { iteration, width: this.width, height: this.height, data: new Uint8ClampedArray(small.data) };
  }
}
