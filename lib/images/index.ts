export {
  type AnimationFormat,
  type AnimationFrame,
  type AnimationOptions,
  animationAsGif,
  animationFormatForPath,
  encodeAnimation,
} from './animation.ts';
export {
  type ComparisonLayout,
  type ComposeOptions,
  comparison,
  comparisonLayout,
  type Panel,
  sideBySide,
} from './compose.ts';
export {
  type ContactSheetItem,
  type ContactSheetLayout,
  type ContactSheetOptions,
  contactSheet,
  contactSheetLayout,
} from './contact-sheet.ts';
export {
  DEFAULT_MAX_PIXELS,
  type DecodeOptions,
  decodeImage,
  type ImageInfo,
  probeImage,
} from './decode.ts';
export { type EncodeOptions, encodeImage, formatForPath, type OutputFormat } from './encode.ts';
export { ImageError, type ImageErrorCode } from './errors.ts';
export {
  hasImageExtension,
  IMAGE_EXTENSIONS,
  IMAGE_FORMAT_NAMES,
  IMAGE_MIME_TYPES,
  type ImageFormat,
} from './formats.ts';
