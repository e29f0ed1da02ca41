/** What the README and docs say about commands and messages matches what they do. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { noCapacityMessage } from '../../src/lb/routing/summary.js';

const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

describe('docs claims', () => {
  it('the README says exactly what npm test runs (its pretest and test scripts), and claims no lint or typecheck', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.pretest).toBe('npm run build');
    expect(scripts.test).toBe('vitest run');
    const readme = read('README.md');
    const quick = /npm ci && npm test\s+#(.*)/.exec(readme)?.[1] ?? '';
    expect(quick).not.toMatch(/lint-free|typed/);
    expect(quick).toMatch(/builds dist\/, then runs the whole vitest suite/);
    expect(readme).toContain('npm test             # npm run build, then vitest run');
    expect(readme).toContain('`npm test` neither lints nor typechecks');
  });

  it('docs/troubleshooting.md quotes the 503 the server sends for no capacity', () => {
    const sent = noCapacityMessage({ tier: 'medium', summary: '3 backends: 2 lack memory, 1 stale', held: null }, 0);
    expect(sent).toBe('no backend available for tier "medium": 3 backends: 2 lack memory, 1 stale');
    const doc = read('docs/troubleshooting.md');
    expect(doc).toContain('## `/route` answers 503 "no backend available for tier"');
    expect(doc).toContain(sent);
    expect(doc).not.toContain('no eligible backend');
  });
});
