import { type RgbImage, rgbImage } from './image.ts';

/**
 * Colour preservation by luminance-only transfer (Gatys et al., "Preserving Color in Neural Artistic Style
 * Transfer", 2016): style and content are reduced to luminance, the style's luminance is matched to the
 * content's mean and spread, the transfer runs on grey images, and the result's luminance is finally
 * recombined with the content photo's own chrominance (YIQ).
 */

const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/** The luminance of an image, repeated in all three channels (the network still expects RGB). */
export function luminance(image: RgbImage): RgbImage {
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i += 3) {
    const y = luma(image.data[i]!, image.data[i + 1]!, image.data[i + 2]!);
    out[i] = out[i + 1] = out[i + 2] = y;
  }
  return rgbImage(image.width, image.height, out);
}

/** `image`'s luminance shifted and scaled to the mean and standard deviation of `reference`'s. */
export function matchLuminance(image: RgbImage, reference: RgbImage): RgbImage {
  const a = stats(luminance(image).data);
  const b = stats(luminance(reference).data);
  const scale = a.std > 1e-6 ? b.std / a.std : 1;
  const grey = luminance(image);
  for (let i = 0; i < grey.data.length; i++) grey.data[i] = (grey.data[i]! - a.mean) * scale + b.mean;
  return grey;
}

/** The luminance of `lum` with the chrominance (I, Q of YIQ) of `colour`; both the same size. */
export function combineLuminance(lum: RgbImage, colour: RgbImage): RgbImage {
  const out = new Float32Array(lum.data.length);
  for (let p = 0; p < out.length; p += 3) {
    const y = luma(lum.data[p]!, lum.data[p + 1]!, lum.data[p + 2]!);
    const [r, g, b] = [colour.data[p]!, colour.data[p + 1]!, colour.data[p + 2]!];
    const i = 0.596 * r - 0.274 * g - 0.322 * b;
    const q = 0.211 * r - 0.523 * g + 0.312 * b;
    out[p] = y + 0.956 * i + 0.621 * q;
    out[p + 1] = y - 0.272 * i - 0.647 * q;
    out[p + 2] = y - 1.106 * i + 1.703 * q;
  }
  return rgbImage(lum.width, lum.height, out);
}

function stats(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i += 3) sum += values[i]!;
  const count = values.length / 3;
  const mean = sum / count;
  let sq = 0;
  for (let i = 0; i < values.length; i += 3) sq += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(sq / count) };
}
