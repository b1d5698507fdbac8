import { fileURLToPath } from 'node:url';

/** The shared test data beside the checkout (never copied into the repository). */
export const asset = (path: string): string =>
  fileURLToPath(new URL(`../../shared/assets/${path}`, import.meta.url));
export const SHALLOW_WEIGHTS = asset('vgg19-conv1-3');
