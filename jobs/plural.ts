/**
 * A count with its noun in the right number, for the sentences members and admins read: `plural(1, 'time')`
 * is "1 time", `plural(3, 'painting')` is "3 paintings". Nouns whose plural is not the singular plus "s" give it.
 */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
