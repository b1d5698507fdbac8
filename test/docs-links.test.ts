import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './job-system.ts';

/**
 * The README and the pages of docs/ link to each other, to pictures and to files of the repository: every
 * relative link must reach a file, and a link to a heading (`page.md#heading`) must reach a heading of that
 * page, named as GitHub names its anchors.
 */

const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs')).flatMap((f) => (f.endsWith('.md') ? [`docs/${f}`] : [])),
];

/** The page's text outside fenced code blocks, where a bracket is code rather than a link. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** Targets of inline links and images, `[text](target)` and `![alt](target "title")`. */
function linkTargets(text: string): string[] {
  return [...prose(text).matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (m) => m[1]!,
  );
}

/** GitHub's anchor of a heading: lowercased, punctuation other than `-` and `_` dropped, spaces as `-`. */
function anchor(heading: string): string {
  return heading
    .replace(/`/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown file's headings, repeated ones numbered as GitHub does (`-1`, `-2`). */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = anchor(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

describe('links of the README and docs/', () => {
  it('finds the pages and their links', () => {
    expect(PAGES).toContain('docs/operations.md');
    expect(linkTargets(readFileSync(join(ROOT, 'README.md'), 'utf8'))).toContain('docs/operations.md');
  });

  it('reads GitHub anchors as GitHub writes them', () => {
    expect(anchor('The `stylize` command')).toBe('the-stylize-command');
    expect(anchor('Variations and the timelapse of a finished painting')).toBe(
      'variations-and-the-timelapse-of-a-finished-painting',
    );
    expect(anchor('`/stylize`')).toBe('stylize');
    expect([
      ...anchors('# A\n\n## Setting it up\n\n```\n# not a heading\n```\n\n## Setting it up\n'),
    ]).toEqual(['a', 'setting-it-up', 'setting-it-up-1']);
  });

  it.each(PAGES)('%s: every relative link reaches a file, and its #heading a heading there', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const broken: string[] = [];
    for (const target of linkTargets(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not files of the repository
      const [path, fragment] = target.split('#', 2) as [string, string | undefined];
      const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), decodeURIComponent(path));
      if (!existsSync(file)) {
        broken.push(`${target}: no file ${relative(ROOT, file)}`);
      } else if (
        fragment !== undefined &&
        file.endsWith('.md') &&
        !anchors(readFileSync(file, 'utf8')).has(fragment)
      ) {
        broken.push(`${target}: no heading #${fragment} in ${relative(ROOT, file)}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
