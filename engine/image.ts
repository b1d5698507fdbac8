/**
 * An image as the engine sees it: `height × width × 3` RGB values in 0-255, row-major (HWC).
 * Decoding and encoding files is not the engine's job (see lib/images); it only ever sees these arrays.
 */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export function rgbImage(
  width: number,
  height: number,
  data = new Float32Array(width * height * 3),
): RgbImage {
  if (data.length !== width * height * 3) {
    throw new Error(`image data has ${data.length} values, expected ${width}x${height}x3`);
  }
  return { width, height, data };
}

/** Size whose longer side is `maxSide`, keeping the aspect ratio (each side at least 1 px). */
export function fitSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = maxSide / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Bilinear resampling (area-averaged when shrinking, so coarse scales do not alias).
 * Used between the optimiser's scales; it is plain array code so every evaluator shares it.
 */
export function resize(image: RgbImage, width: number, height: number): RgbImage {
  if (width === image.width && height === image.height) return rgbImage(width, height, image.data.slice());
  let src = image;
  // Halve with a 2x2 box filter while the target is at most half the source, then finish bilinearly.
  while (src.width >= 2 * width && src.height >= 2 * height) src = halve(src);
  // Halved to the size exactly: the bilinear pass at 1:1 would copy every value as it is.
  if (src !== image && src.width === width && src.height === height) return src;
  const out = new Float32Array(width * height * 3);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), src.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, src.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), src.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, src.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const a = src.data[(y0 * src.width + x0) * 3 + c]!;
        const b = src.data[(y0 * src.width + x1) * 3 + c]!;
        const d = src.data[(y1 * src.width + x0) * 3 + c]!;
        const e = src.data[(y1 * src.width + x1) * 3 + c]!;
        out[(y * width + x) * 3 + c] = (a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy;
      }
    }
  }
  return rgbImage(width, height, out);
}

function halve(image: RgbImage): RgbImage {
  const width = Math.floor(image.width / 2);
  const height = Math.floor(image.height / 2);
  const out = new Float32Array(width * height * 3);
  const row = image.width * 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const i = 2 * y * row + 2 * x * 3 + c;
        out[(y * width + x) * 3 + c] =
          (image.data[i]! + image.data[i + 3]! + image.data[i + row]! + image.data[i + row + 3]!) / 4;
      }
    }
  }
  return rgbImage(width, height, out);
}
