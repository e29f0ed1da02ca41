import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');

export function tempDir(prefix = 'vantage-sec-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ScriptResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runScript(
  script: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  opts: { cwd?: string; timeoutMs?: number } = {},
): ScriptResult {
  const r = spawnSync('bash', [join(REPO, 'scripts', script), ...args], {
    cwd: opts.cwd ?? tmpdir(),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh self-signed certificate from scripts/generate-tls-cert.sh. */
export function makeCert(dir: string, domain = 'lb.test.local'): { cert: string; key: string } {
  const r = runScript('generate-tls-cert.sh', [dir, domain, '2']);
  if (r.status !== 0) throw new Error(`generate-tls-cert.sh failed: ${r.stderr}`);
  return { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}
