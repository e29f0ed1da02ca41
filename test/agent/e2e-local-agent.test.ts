/**
 * End to end: what `npm start` runs (`vantage server --with-agent`) — the server spawns the
 * local agent (dist/cli/main.js agent), which must show up in GET /clients with real,
 * non-zero figures of this machine.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** The demo backend of --with-agent listens on the fixed port 11000. */
async function portFree(port: number): Promise<boolean> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe.skipIf(!existsSync(MAIN))('npm start: server with its local agent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-e2e-agent-'));
  let child: ChildProcess | undefined;
  const output: string[] = [];
  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('the local agent appears in GET /clients with non-zero real figures', async (ctx) => {
    if (!(await portFree(11000))) ctx.skip('port 11000 (the demo backend) is in use on this machine');
    const portFile = join(dir, 'port.json');
    child = spawn(process.execPath, [MAIN, 'server', '--with-agent', '--port', '0', '--host', '127.0.0.1', '--database', join(dir, 'vantage.db')], {
      env: { ...process.env, VANTAGE_PORT_FILE: portFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
    child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
    await waitFor(() => existsSync(portFile) || child?.exitCode !== null, 40_000, 'server ready');
    expect(child.exitCode, output.join('')).toBeNull();
    const { port } = JSON.parse(readFileSync(portFile, 'utf8')) as { port: number };

    type Row = { endpoint: string; cpu_cores: number; cpu_usage_per_core_pct?: number[]; memory_total_gb: number; memory_used_gb: number | null; disk_total_gb: number; disk_used_gb: number | null; is_active: boolean };
    let local: Row | undefined;
    await waitFor(
      async () => {
        const rows = (await (await fetch(`http://127.0.0.1:${port}/clients`)).json()) as Row[];
        local = rows.find((r) => r.endpoint === 'http://127.0.0.1:11000' && typeof r.memory_used_gb === 'number');
        return local !== undefined;
      },
      30_000,
      'the local agent in /clients',
    );
    expect(local?.is_active).toBe(true);
    expect(local?.cpu_cores).toBeGreaterThan(0);
    expect(local?.memory_total_gb).toBeGreaterThan(0);
    expect(local?.memory_used_gb).toBeGreaterThan(0);
    expect(local?.disk_total_gb).toBeGreaterThan(0);
    expect(local?.disk_used_gb).toBeGreaterThan(0);
    if (local?.cpu_usage_per_core_pct !== undefined) expect(local.cpu_usage_per_core_pct).toHaveLength(local.cpu_cores);
  });
});
