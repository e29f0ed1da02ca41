/**
 * Issue 9, item 4: on a running `npm start` system (`vantage server --with-agent`, from dist/),
 * `vantage monitor add --url …/health --interval 5s --assert 'status == 200' --assert 'response_time < 500'`
 * shows results and rollups through `vantage monitor show ID` within 15 s.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/fake-worker-api.js';
import { startHttp } from './helpers/servers.js';
import type { Running } from './helpers/servers.js';
import { tempDir } from './helpers/system.js';

const MAIN = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'dist/cli/main.js');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, VANTAGE_API_KEY: 'e2e-key' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', rej);
    p.on('exit', (code) => res({ code, stdout, stderr }));
  });
}


let target: Running;
beforeAll(async () => {
  target = await startHttp((_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
  });
});
afterAll(() => target.close());

describe('npm start system + vantage monitor CLI', () => {
  it('shows results and rollups of a new monitor within 15 s', async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
    const dir = tempDir('vantage-cli-e2e-');
    const cfg = join(dir.path, 'server.json');
    writeFileSync(
      cfg,
      JSON.stringify({ host: '127.0.0.1', port: 0, worker_port: 0, database: join(dir.path, 'v.db'), server_key: 'e2e-key', health_check_enabled: false }),
    );
    const portFile = join(dir.path, 'port.json');
    const server = spawn(process.execPath, [MAIN, 'server', '--config', cfg, '--with-agent', '--demo-port', '0'], {
      cwd: dir.path,
      env: { ...process.env, VANTAGE_PORT_FILE: portFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    server.stdout.on('data', (c: Buffer) => (out += c.toString()));
    server.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<void>((r) => server.once('exit', () => r()));
    try {
      await waitFor(() => existsSync(portFile) || server.exitCode !== null, 'server ready', 40_000);
      if (!existsSync(portFile)) throw new Error(`server exited:\n${out}`);
      expect(out).not.toMatch(/could not start the local demo backend/);
      const url = (JSON.parse(readFileSync(portFile, 'utf8')) as { url: string }).url;

      const added = await cli([
        'monitor', 'add', '--server', url,
        '--url', `http://127.0.0.1:${target.port}/health`,
        '--interval', '5s',
        '--assert', 'status == 200',
        '--assert', 'response_time < 500',
      ]);
      const addedAt = Date.now();
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      const id = /created (\S+)/.exec(added.stdout)?.[1] ?? '';
      expect(id).not.toBe('');

      type Shown = { results: Array<{ status: string; httpCode: number; assertionsJson: string }>; uptime: { last24h?: { count: number | string; uptimePct: number } } };
      let shown: Shown | null = null;
      while (Date.now() - addedAt < 15_000) {
        const r = await cli(['monitor', 'show', id, '--server', url, '--json']);
        expect(r.code).toBe(0);
        shown = JSON.parse(r.stdout) as Shown;
        if (shown.results.length > 0 && Number(shown.uptime.last24h?.count ?? 0) > 0) break;
        await new Promise((r2) => setTimeout(r2, 200));
      }
      expect(Date.now() - addedAt).toBeLessThanOrEqual(15_000);
      expect(shown?.results[0]).toMatchObject({ status: 'up', httpCode: 200 });
      expect(JSON.parse(shown?.results[0]?.assertionsJson ?? '[]')).toEqual([
        { assertion: 'status == 200', passed: true, actual: 200 },
        { assertion: 'response_time < 500', passed: true, actual: expect.any(Number) },
      ]);
      expect(Number(shown?.uptime.last24h?.count)).toBeGreaterThan(0);
      expect(shown?.uptime.last24h?.uptimePct).toBe(100);

      const text = await cli(['monitor', 'show', id, '--server', url]);
      expect(text.stdout).toContain('assertions: status == 200 AND response_time < 500');
      expect(text.stdout).toMatch(/\bup\s+200\b/);

      const bad = await cli(['monitor', 'add', '--server', url, '--url', 'http://127.0.0.1:1/', '--assert', 'status = 200']);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/assertions\[0\] "status = 200"/);
    } finally {
      server.kill('SIGTERM');
      const t = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      dir.remove();
    }
  }, 120_000);
});
