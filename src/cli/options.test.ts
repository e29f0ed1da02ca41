import { describe, expect, it } from 'vitest';
import { normaliseArgv } from './options.js';

describe('normaliseArgv', () => {
  it('turns Go-style single-dash long flags into double-dash ones', () => {
    expect(normaliseArgv(['node', 'vantage', 'server', '-config', 's.yml', '-port', '9000', '-stale=10'])).toEqual([
      'node', 'vantage', 'server', '--config', 's.yml', '--port', '9000', '--stale=10',
    ]);
  });
  it('leaves single-letter flags, values and double-dash flags alone', () => {
    expect(normaliseArgv(['node', 'vantage', 'server', '-c', 'x.yml', '--port', '-1', '-h'])).toEqual([
      'node', 'vantage', 'server', '-c', 'x.yml', '--port', '-1', '-h',
    ]);
  });
});
