/**
 * `vantage monitor apply` benchmark (`npm run bench:apply`; `-- --json` for JSON).
 *
 * Real processes on loopback: one `vantage server` (dist/cli/main.js, SQLite file in a temp dir) and the CLI
 * (`node dist/cli/main.js monitor apply -f monitors.yml`) run as a child process per step, so each figure
 * includes the CLI's start, reading and validating the file, the request and the server's writes.
 *
 * Steps: create N monitors; apply the same file again (no changes); change 10 % of the intervals and drop
 * 10 % of the entries with --prune; for comparison, `monitor add` run K times (one process each).
 * Goal (issue 16): N = 10 000 applied in ≤ 30 s.
 *
 * Flags: --monitors N (10000) --adds K (10) --no-build --json
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cliArgs, cpuMicros, REPO, spawnChild, waitFor } from './lib.js';

const { flag, opt } = cliArgs();
const MONITORS = opt('monitors', 10_000);
const ADDS = opt('adds', 10);
const KEY = 'bench-key';
const CLI = join(REPO, 'dist/cli/main.js');

interface Row {
  step: string;
  monitors: number;
  wall_s: number;
  per_monitor_ms: number;
  server_cpu_s: number;
  plan: string;
}

function monitorsYaml(n: number, changed = 0, dropped = 0): string {
  const lines: string[] = [];
  for (let i = dropped; i < n; i++) {
    lines.push(`- name: bench-${String(i).padStart(6, '0')}`);
    lines.push(`  url: http://127.0.0.1:9/health/${i}`);
    lines.push(`  interval: ${i < dropped + changed ? '45s' : '30s'}`);
    lines.push(`  assertions: ['status == 200', 'response_time < 500']`);
  }
  return lines.join('\n') + '\n';
}

function runCli(args: string[], server: string): { wall_s: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'monitor', ...args, '--server', server, '--api-key', KEY], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall_s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`monitor ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return { wall_s, out: r.stdout };
}

async function main(): Promise<void> {
  if (!flag('no-build')) execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO, stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-apply-'));
  const cfg = join(dir, 'server.json');
  const portFile = join(dir, 'port.json');
  writeFileSync(cfg, JSON.stringify({ port: 0, worker_port: 0, host: '127.0.0.1', server_key: KEY, database: join(dir, 'vantage.db'), log_level: 'warn' }));
  const server = spawnChild([CLI, 'server', '--config', cfg], { VANTAGE_PORT_FILE: portFile });
  const rows: Row[] = [];
  try {
    const { url } = await waitFor(
      () => (existsSync(portFile) ? (JSON.parse(readFileSync(portFile, 'utf8')) as { url: string }) : server.proc.exitCode !== null ? Promise.reject(new Error(server.output())) : null),
      'the server',
    );
    const file = join(dir, 'monitors.yml');
    const step = (name: string, yaml: string, extra: string[], count: number): void => {
      writeFileSync(file, yaml);
      const cpu0 = cpuMicros(server.proc.pid) ?? 0;
      const r = runCli(['apply', '-f', file, ...extra], url);
      const cpu = ((cpuMicros(server.proc.pid) ?? 0) - cpu0) / 1e6;
      rows.push({ step: name, monitors: count, wall_s: r.wall_s, per_monitor_ms: (r.wall_s * 1000) / count, server_cpu_s: cpu, plan: r.out.split('\n')[0]!.replace(/ \(monitors are matched by name\)/, '') });
    };
    step('apply: create all', monitorsYaml(MONITORS), [], MONITORS);
    step('apply again (no changes)', monitorsYaml(MONITORS), [], MONITORS);
    const tenth = Math.round(MONITORS / 10);
    step('apply 10 % changed, 10 % pruned', monitorsYaml(MONITORS, tenth, tenth), ['--prune'], MONITORS);

    const cpu0 = cpuMicros(server.proc.pid) ?? 0;
    let wall = 0;
    for (let i = 0; i < ADDS; i++) wall += runCli(['add', '--url', `http://127.0.0.1:9/add/${i}`, '--name', `add-${i}`], url).wall_s;
    rows.push({ step: `monitor add × ${ADDS} (a process each)`, monitors: ADDS, wall_s: wall, per_monitor_ms: (wall * 1000) / ADDS, server_cpu_s: ((cpuMicros(server.proc.pid) ?? 0) - cpu0) / 1e6, plan: `extrapolated to ${MONITORS}: ${((wall / ADDS) * MONITORS).toFixed(0)} s` });
  } finally {
    server.proc.kill('SIGTERM');
    await new Promise((r) => server.proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }

  if (flag('json')) {
    process.stdout.write(`${JSON.stringify({ monitors: MONITORS, goal_s: 30, rows }, null, 2)}\n`);
    return;
  }
  const table = [
    ['step', 'monitors', 'wall s', 'ms/monitor', 'server CPU s', 'plan'],
    ...rows.map((r) => [r.step, String(r.monitors), r.wall_s.toFixed(2), r.per_monitor_ms.toFixed(3), r.server_cpu_s.toFixed(2), r.plan]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) process.stdout.write(`${row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}\n`);
  const first = rows[0]!;
  process.stdout.write(`\ngoal: ${MONITORS} monitors applied in ≤ 30 s: ${first.wall_s <= 30 ? 'met' : 'NOT met'} (${first.wall_s.toFixed(2)} s)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
