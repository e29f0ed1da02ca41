import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveClientId, resolveStateDir, STATE_FILE } from '../../src/agent/reporter/identity.js';
import { captureLogger } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vantage-id-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('client identity', () => {
  it('state_dir defaults: /var/lib/vantage for root, ~/.vantage otherwise', () => {
    expect(resolveStateDir('', 0, '/root')).toBe('/var/lib/vantage');
    expect(resolveStateDir('', 1000, '/home/ann')).toBe('/home/ann/.vantage');
    expect(resolveStateDir('/srv/x', 0, '/root')).toBe('/srv/x');
  });

  it('uses the configured client_id and writes nothing', async () => {
    const d = join(dir, 'configured');
    expect(await resolveClientId('backend-7', d, captureLogger().logger)).toBe('backend-7');
    expect(() => statSync(d)).toThrow();
  });

  it('generates a UUID once, persists it (0600) and returns the same id on the next start', async () => {
    const d = join(dir, 'nested', 'state');
    const first = await resolveClientId('', d, captureLogger().logger);
    expect(first).toMatch(UUID);
    const file = join(d, STATE_FILE);
    expect(JSON.parse(readFileSync(file, 'utf8')).client_id).toBe(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await resolveClientId('', d, captureLogger().logger)).toBe(first);
  });

  it('replaces a malformed state file with a fresh id, with a warning', async () => {
    const d = join(dir, 'bad');
    mkdirSync(d);
    writeFileSync(join(d, STATE_FILE), '{"client_id": 42}');
    const { logger, lines } = captureLogger();
    const id = await resolveClientId('', d, logger);
    expect(id).toMatch(UUID);
    expect(lines.some((l) => /malformed/.test(l.msg))).toBe(true);
    expect(await resolveClientId('', d, captureLogger().logger)).toBe(id);
  });

  it('concurrent first starts agree on one id', async () => {
    const d = join(dir, 'race');
    const ids = await Promise.all(Array.from({ length: 8 }, () => resolveClientId('', d, captureLogger().logger)));
    const kept = JSON.parse(readFileSync(join(d, STATE_FILE), 'utf8')).client_id as string;
    expect(kept).toMatch(UUID);
    expect(new Set(ids)).toEqual(new Set([kept]));
    expect(readdirSync(d)).toEqual([STATE_FILE]); // no temp files left behind
  });

  it('a truncated (non-JSON) state file is replaced', async () => {
    const d = join(dir, 'trunc');
    mkdirSync(d);
    writeFileSync(join(d, STATE_FILE), '{"client_');
    const id = await resolveClientId('', d, captureLogger().logger);
    expect(id).toMatch(UUID);
    expect(JSON.parse(readFileSync(join(d, STATE_FILE), 'utf8')).client_id).toBe(id);
  });

  it('a state dir path that is a file yields an id with a warning', async () => {
    const f = join(dir, 'plainfile');
    writeFileSync(f, 'x');
    const { logger, lines } = captureLogger();
    expect(await resolveClientId('', f, logger)).toMatch(UUID);
    expect(lines.some((l) => l.level === 40)).toBe(true);
  });
});
