/**
 * Selecting PostgreSQL with `--database postgres://…`: a bad URL is a config error (exit 2, key named).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './cluster.js';

const MAIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ owned: true });
});
afterAll(async () => {
  await cluster?.destroy();
});

describe('vantage server --database postgres://', () => {
  it('a malformed URL is a config error: exit 2 naming the key, nothing started', () => {
    const r = spawnSync(process.execPath, [MAIN, 'server', '--port', '0', '--database', 'postgres://db:99999/vantage'], { encoding: 'utf8', env: { ...process.env, VANTAGE_DATABASE: undefined } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--database: database: expected a SQLite file path or a postgres://user:pass@host:port/database URL');
  });
});
