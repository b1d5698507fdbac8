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
  type ImageFormat,
  type ImageInfo,
  probeImage,
} from './decode.ts';
export { type EncodeOptions, encodeImage, formatForPath, type OutputFormat } from './encode.ts';
export { ImageError, type ImageErrorCode } from './errors.ts';
