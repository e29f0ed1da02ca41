/** Helpers shared by the benchmark scripts (argument parsing, child processes, waiting, /proc readings). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('..', import.meta.url));

/** `--name` flags and `--name <positive number>` options of this process. */
export function cliArgs(args: readonly string[] = process.argv.slice(2)) {
  return {
    args,
    flag: (name: string): boolean => args.includes(`--${name}`),
    opt: (name: string, def: number): number => {
      const i = args.indexOf(`--${name}`);
      const v = i >= 0 ? Number(args[i + 1]) : def;
      if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
      return v;
    },
    /** The value after `--name`, or undefined when the option is absent. */
    value: (name: string): string | undefined => {
      const i = args.indexOf(`--${name}`);
      return i >= 0 ? args[i + 1] : undefined;
    },
  };
}

/** Polls `fn` until it returns non-null, or throws after `timeoutMs`. */
export async function waitFor<T>(fn: () => T | null | Promise<T | null>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `node argv…` in the repository, keeping the last `keepChars` of its output for error messages. */
export function spawnChild(argv: string[], env: Record<string, string>, keepChars = 20_000): { proc: ChildProcess; output: () => string } {
  const proc = spawn(process.execPath, argv, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-keepChars)));
  proc.stderr?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-keepChars)));
  return { proc, output: () => out };
}

/**
 * Runs `code` (a small server script) with `node -e`; the script writes its listening port to the file named by
 * $PORT_FILE (created in `dir`). Resolves once the port is known.
 */
export async function spawnScriptServer(code: string, dir: string, what: string): Promise<{ proc: ChildProcess; port: number }> {
  const portFile = join(dir, `${what.replace(/\W+/g, '-')}.port`);
  const { proc } = spawnChild(['-e', code], { PORT_FILE: portFile });
  try {
    const port = await waitFor(() => (existsSync(portFile) ? Number(readFileSync(portFile, 'utf8')) : null), what);
    return { proc, port };
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
}

/** POSTs JSON and throws unless the answer is 200. */
export async function postJson(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

/** utime+stime of a process in µs (Linux /proc; null elsewhere). */
export function cpuMicros(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // Clock ticks are 100 Hz on Linux builds Node runs on.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

/** Resident set size of a process in kB (Linux /proc; null elsewhere). */
export function rssKb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
