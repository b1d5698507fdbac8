/**
 * Presets, the paintings members pick by name. The catalogue (catalogue.json, catalogue.ts) lists the famous
 * paintings with their sources and recommended strengths; the operator's files, which `stylize presets setup`
 * installs (cli/presets/), lie in PRESETS_DIR (files.ts); a server's own, added by its admins, are kept in the
 * image store (presets.ts), and preset-image.ts reads either. The bot's side enters here; the CLI, which opens
 * no database, reads catalogue.ts and files.ts alone.
 */
export {
  type Catalogue,
  type CataloguePainting,
  loadCatalogue,
  paintingTitle,
  recommendedStrength,
} from './catalogue.ts';
export { presetFiles } from './files.ts';
export { presetImage } from './preset-image.ts';
export {
  deletePreset,
  describePresets,
  listPresets,
  loadPreset,
  MAX_STYLE_SIDE,
  type PresetInfo,
  requirePreset,
  savePreset,
} from './presets.ts';
