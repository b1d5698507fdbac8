/**
 * The bot's message components (buttons and select menus), for the router (interactions.ts). A static list, for
 * the reasons of commands/index.ts; their custom ids do not overlap, so the order does not matter.
 */
import type { Route } from '../route.ts';
import { cancelButton } from './cancel.ts';
import { deleteButton } from './delete.ts';
import { pickerPaintButton, pickerSelect } from './picker.ts';
import { timelapseButton } from './timelapse.ts';
import { variationButton } from './variation.ts';

export const COMPONENTS: readonly Route[] = [
  pickerSelect,
  pickerPaintButton,
  deleteButton,
  cancelButton,
  variationButton,
  timelapseButton,
];
