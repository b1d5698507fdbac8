import type { JobRow } from './db.ts';
import { type JobOptions, jobOptionsSchema, type StyleRefs, styleRefsSchema } from './options.ts';

/**
 * The job row's JSON columns, read and written only here: `options` (what the member chose) and `styleRefs`
 * (the style images, with their names and blend weights). A read checks the stored JSON against the schema it
 * was written with (options.ts) and fills in its defaults, so a row stored before a field existed reads with
 * that field's default. A column that does not decode throws (SyntaxError or ZodError): only this module writes
 * them, so that is a fault of ours, and the caller fails as for any internal error. The adapters' `chatRefs` is
 * not here: each chat adapter owns its format, opaque to the job system.
 */

/** The job's options, from its `options` column. */
export function decodeOptions(row: Pick<JobRow, 'options'>): JobOptions {
  return jobOptionsSchema.parse(JSON.parse(row.options));
}

/** The job's style images (store references, names, weights), in the order given, from its `styleRefs` column. */
export function decodeStyleRefs(row: Pick<JobRow, 'styleRefs'>): StyleRefs {
  return styleRefsSchema.parse(JSON.parse(row.styleRefs));
}

/** Of the job's options, the two its work depends on (queue.ts): read for every waiting job, so nothing else. */
const workOptionsSchema = jobOptionsSchema.pick({ size: true, iterations: true });

/** The size (longer side, px) and iterations of the job, from its `options` column; its other options unread. */
export function decodeWorkOptions(row: Pick<JobRow, 'options'>): { size: number; iterations: number } {
  return workOptionsSchema.parse(JSON.parse(row.options));
}

/** The `options` column of a job with `options`. */
export function encodeOptions(options: JobOptions): string {
  return JSON.stringify(options);
}

/** The `styleRefs` column of a job with the style images `refs`. */
export function encodeStyleRefs(refs: StyleRefs): string {
  return JSON.stringify(refs);
}
