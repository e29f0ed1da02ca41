import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, VANTAGE_PORT: undefined } });

describe('vantage CLI', () => {
  it('--help lists the commands and explains configuration order', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const cmd of ['server', 'agent', 'config']) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    expect(r.stdout).toMatch(/YAML file, then VANTAGE_\* environment variables, then flags/);
  });

  it('server --help documents every key as a flag with its default', () => {
    const r = run('server', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--rate-limit-per-minute <n>\s+Token-bucket refill per client IP per minute\. \(default: 60\)/);
    expect(r.stdout).toMatch(/--stale <n>\s+alias of --stale-minutes/);
  });

  it('exits 2 naming the key when a flag value is invalid, before starting anything', () => {
    const r = run('server', '-port', 'abc');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error: --port: port: expected an integer from 0 to 65535, got "abc"');
  });

  it('config check: exit 2 with every problem of a bad file, and warnings for typos', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-cli-'));
    const file = join(dir, 'server.yml');
    writeFileSync(file, 'rate_limit_per_minute: abc\nstale_minuts: 3\n');
    const r = run('config', 'check', file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`error: ${file}: rate_limit_per_minute: expected a positive integer, got "abc"`);
    expect(r.stderr).toContain(`warning: ${file}: unknown key "stale_minuts" ignored — did you mean "stale_minutes"?`);
    writeFileSync(file, 'port: 9000\n');
    const ok = run('config', 'check', file);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`${file}: OK`);
  });

  it('config check recognises a client file given without --client, and a server file given with it', () => {
    const repo = new URL('../../', import.meta.url).pathname;
    const client = run('config', 'check', join(repo, 'deploy/client.example.yml'));
    expect(client.status).toBe(2);
    expect(client.stdout).not.toContain('OK');
    expect(client.stderr).toMatch(/^error: \S+client\.example\.yml: this looks like a client\.yml, not a server\.yml: \d+ of its keys are client\.yml keys \(server_url, endpoint_url, /);
    expect(client.stderr).toContain('vantage config check --client ');
    expect(client.stderr).not.toMatch(/did you mean|warning/);
    const server = run('config', 'check', '--client', join(repo, 'deploy/server.example.yml'));
    expect(server.status).toBe(2);
    expect(server.stderr).toMatch(/^error: \S+server\.example\.yml: this looks like a server\.yml, not a client\.yml: .*check it without --client/);
  });

  it('config check names the real file once: typo.yml in warnings and errors, and in a YAML syntax error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-cli-'));
    const file = join(dir, 'typo.yml');
    writeFileSync(file, 'port: 9000\nstale_minuts: 3\n');
    const typo = run('config', 'check', file);
    expect(typo.status).toBe(0);
    expect(typo.stderr).toBe(`warning: ${file}: unknown key "stale_minuts" ignored — did you mean "stale_minutes"?\n`);
    writeFileSync(file, 'port: 9000\nlog_level: a: b\n');
    const syntax = run('config', 'check', file);
    expect(syntax.status).toBe(2);
    expect(syntax.stderr).toBe(`error: ${file}: YAML syntax error at line 2, column 12: Nested mappings are not allowed in compact mappings\n`);
    const server = run('server', '--config', file);
    expect(server.status).toBe(2);
    expect(server.stderr.split('\n')[0]).toBe(`error: ${file}: YAML syntax error at line 2, column 12: Nested mappings are not allowed in compact mappings`);
    expect(server.stderr).not.toContain('server.yml');
  });

  it('config defaults prints YAML that config check accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-cli-'));
    for (const kind of ['server', 'client'] as const) {
      const r = run('config', 'defaults', kind);
      expect(r.status).toBe(0);
      const file = join(dir, `${kind}.yml`);
      writeFileSync(file, r.stdout);
      const check = run('config', 'check', file, ...(kind === 'client' ? ['--client'] : []));
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });

  it('checks every port before touching anything: all taken ones in one message, exit 2, no stack, no database file', async () => {
    const blockers = [createServer(), createServer()];
    for (const b of blockers) await new Promise<void>((r) => b.listen(0, '127.0.0.1', () => r()));
    const [main, worker] = blockers.map((b) => (b.address() as { port: number }).port) as [number, number];
    const dir = mkdtempSync(join(tmpdir(), 'vantage-cli-'));
    const db = join(dir, 'sub', 'v.db');
    try {
      const child = spawn(process.execPath, [MAIN, 'server', '--host', '127.0.0.1', '--port', String(main), '--worker-port', String(worker), '--database', db], {
        env: { ...process.env, VANTAGE_PORT: undefined, VANTAGE_WORKER_PORT: undefined },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(code).toBe(2);
      const lines = out.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(
        `server failed to start: port ${main} on 127.0.0.1 is already in use (set port to a free port); ` +
          `worker_port ${worker} on 127.0.0.1 is already in use (set worker_port to a free port, or monitoring_enabled: false); nothing was started`,
      );
      expect(out).not.toMatch(/\n\s+at |"stack"/);
      expect(existsSync(db)).toBe(false);
      expect(existsSync(join(dir, 'sub'))).toBe(false);
    } finally {
      for (const b of blockers) b.close();
    }
  });

  it('refuses port and worker_port set to the same number, naming both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-cli-'));
    const r = run('server', '--host', '127.0.0.1', '--port', '18099', '--worker-port', '18099', '--database', join(dir, 'v.db'));
    expect(r.status).toBe(2);
    expect(r.stdout + r.stderr).toContain('port and worker_port are both 18099; give each its own port');
    expect(existsSync(join(dir, 'v.db'))).toBe(false);
  });
});
