import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationMarkdown } from './docs.js';

describe('docs/configuration.md', () => {
  it('matches the config tables (run `npm run docs:config` after changing a key)', () => {
    const onDisk = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(configurationMarkdown());
  });
});
