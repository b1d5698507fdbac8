import { fileURLToPath } from 'node:url';

/** The shared test data beside the checkout (never copied into the repository). */
export const asset = (path: string): string =>
  fileURLToPath(new URL(`../../shared/assets/${path}`, import.meta.url));
export const SHALLOW_WEIGHTS = asset('vgg19-conv1-3');
/** The whole VGG-19 (blocks 4-5 at 8-bit precision, features within a few per cent): the paper's layers. */
export const PAPER_WEIGHTS = asset('vgg19-conv1-5');
