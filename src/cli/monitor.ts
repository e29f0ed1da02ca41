/**
 * `vantage monitor add|list|rm|show`: manage monitors through the server's MonitorsService
 * (Connect, JSON over HTTP on the main port, authenticated with X-API-Key).
 */
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import type { Command } from 'commander';
import { MonitorsService, type CheckResult, type MetricPoint, type Monitor } from '../gen/vantage/v1/monitors_pb.js';
import { checkTypeNames } from '../monitoring/checks/registry.js';
import { formatDuration, parseDuration, parsePositiveDurationFlag } from '../platform/duration.js';
import { registerMonitorApply } from './monitor-apply.js';
import { connectOptions, serviceClient } from './connect-client.js';

export { formatDuration, parseDuration } from '../platform/duration.js';

export interface MonitorCliIo {
  out(text: string): void;
  err(text: string): void;
}

export const stdio: MonitorCliIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

export interface CommonOptions {
  server: string;
  apiKey?: string;
  json?: boolean;
  timeout?: string;
}

export function monitorsClient(opts: { server: string; apiKey?: string; timeoutMs?: number }): Client<typeof MonitorsService> {
  return serviceClient(MonitorsService, { server: opts.server, apiKey: opts.apiKey, timeoutMs: opts.timeoutMs ?? 10_000 });
}

function parseHeader(h: string): [string, string] {
  const i = h.indexOf(':');
  if (i <= 0) throw new Error(`header "${h}" must look like "Name: value"`);
  return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
}

function parseOption(o: string): [string, unknown] {
  const i = o.indexOf('=');
  if (i <= 0) throw new Error(`option "${o}" must look like key=value`);
  const raw = o.slice(i + 1);
  let v: unknown = raw;
  if (raw === 'true' || raw === 'false') v = raw === 'true';
  return [o.slice(0, i).trim(), v];
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const ms = (v: number | undefined): string => (v === undefined ? '–' : `${v.toFixed(v < 10 ? 2 : 0)}ms`);
/**
 * A percentage with one rule for every value: up to 3 decimals, trailing zeros dropped (0%, 99.5%, 100%), and
 * never rounded onto 0% or 100% when it is not exactly that (99.9996 → 99.999%).
 */
export function formatPercent(v: number): string {
  let text = v.toFixed(3).replace(/\.?0+$/, '');
  if (text === '100' && v < 100) text = '99.999';
  if (text === '0' && v > 0) text = '0.001';
  return `${text}%`;
}
const pct = (p: MetricPoint | undefined): string => (!p || p.count === 0n ? '–' : formatPercent(p.uptimePct));
const checks = (n: bigint | undefined): string => `${String(n ?? 0n)} ${n === 1n ? 'check' : 'checks'}`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : pad(cell, widths[c]!))).join('  ')).join('\n');
}

export function formatMonitorList(monitors: readonly Monitor[]): string {
  if (monitors.length === 0) return 'no monitors';
  return table([
    ['ID', 'NAME', 'TYPE', 'EVERY', 'REGIONS', 'STATE', 'URL'],
    ...monitors.map((m) => [
      m.id,
      m.name,
      m.type,
      formatDuration(Number(m.intervalMs)),
      m.regions.join(','),
      m.deletedAtMs !== undefined ? 'deleted' : m.enabled ? 'enabled' : 'disabled',
      m.url,
    ]),
  ]);
}

export function formatMonitorShow(
  m: Monitor,
  uptime: { last24h?: MetricPoint; last7d?: MetricPoint; last30d?: MetricPoint },
  results: readonly CheckResult[],
): string {
  const lines = [
    `${m.id}  ${m.name}${m.deletedAtMs !== undefined ? '  (deleted)' : m.enabled ? '' : '  (disabled)'}`,
    `  ${m.type} ${m.type === 'http' ? `${m.method} ` : ''}${m.url}`,
    `  every ${formatDuration(Number(m.intervalMs))}, timeout ${formatDuration(Number(m.timeoutMs))}, regions ${m.regions.join(', ')}`,
  ];
  if (Object.keys(m.headers).length > 0) lines.push(`  headers: ${Object.entries(m.headers).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  if (m.assertions.length > 0) lines.push(`  assertions: ${m.assertions.join(' AND ')}`);
  if (m.nextDueAtMs !== undefined) lines.push(`  next run: ${new Date(Number(m.nextDueAtMs)).toISOString()}`);
  const d = uptime.last24h;
  lines.push(`  uptime: 24h ${pct(uptime.last24h)}   7d ${pct(uptime.last7d)}   30d ${pct(uptime.last30d)}`);
  lines.push(`  latency 24h: p50 ${ms(d?.p50Ms)}  p95 ${ms(d?.p95Ms)}  p99 ${ms(d?.p99Ms)}  (${checks(d?.count)})`);
  if (results.length === 0) {
    lines.push('  no results yet');
  } else {
    lines.push('');
    lines.push(
      table([
        ['TIME', 'REGION', 'STATUS', 'CODE', 'TOTAL', 'ERROR'],
        ...results.map((r) => [
          new Date(Number(r.eventAtMs)).toISOString(),
          r.region,
          r.status,
          r.httpCode === 0 ? '–' : String(r.httpCode),
          ms(r.totalMs),
          r.error === '' ? '' : `${r.errorClass ? `${r.errorClass}: ` : ''}${r.error}`,
        ]),
      ]),
    );
  }
  return lines.join('\n');
}

export const toJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x), 2);

export function clientFor(o: CommonOptions): Client<typeof MonitorsService> {
  return monitorsClient({ server: o.server, apiKey: o.apiKey, timeoutMs: o.timeout !== undefined ? parsePositiveDurationFlag('--timeout', o.timeout) : undefined });
}

/** Exit codes: 0 ok, 1 server/network error, 2 bad input (ours or the server's InvalidArgument), 4 not found. */
export function failure(err: unknown, io: MonitorCliIo): number {
  if (err instanceof ConnectError) {
    io.err(`error: ${err.rawMessage}`);
    if (err.code === Code.InvalidArgument) return 2;
    if (err.code === Code.NotFound) return 4;
    if (err.code === Code.Unauthenticated) io.err('hint: pass --api-key or set VANTAGE_API_KEY (server_key or one of api_keys)');
    return 1;
  }
  io.err(`error: ${(err as Error).message}`);
  return 2;
}

export interface AddOptions extends CommonOptions {
  url: string;
  name?: string;
  type?: string;
  method?: string;
  interval?: string;
  timeoutCheck?: string;
  header?: string[];
  body?: string;
  assert?: string[];
  region?: string[];
  option?: string[];
  disabled?: boolean;
}

export async function runMonitorAdd(o: AddOptions, io: MonitorCliIo = stdio): Promise<number> {
  try {
    const options = Object.fromEntries((o.option ?? []).map(parseOption));
    const res = await clientFor(o).createMonitor({
      monitor: {
        name: o.name ?? '',
        type: o.type ?? '',
        url: o.url,
        method: o.method ?? '',
        headers: Object.fromEntries((o.header ?? []).map(parseHeader)),
        body: o.body ?? '',
        // Unset stays unset (the server's default); an explicit 0s is sent as 0 and refused with the range.
        intervalMs: o.interval !== undefined ? BigInt(parseDuration(o.interval)) : undefined,
        timeoutMs: o.timeoutCheck !== undefined ? BigInt(parseDuration(o.timeoutCheck)) : undefined,
        assertions: o.assert ?? [],
        regions: o.region ?? [],
        enabled: !o.disabled,
        optionsJson: Object.keys(options).length > 0 ? JSON.stringify(options) : '',
      },
    });
    const m = res.monitor!;
    io.out(o.json ? toJson(m) : `created ${m.id} (${m.name}): ${m.type} ${m.url} every ${formatDuration(Number(m.intervalMs))}`);
    return 0;
  } catch (err) {
    return failure(err, io);
  }
}

export async function runMonitorList(o: CommonOptions & { all?: boolean }, io: MonitorCliIo = stdio): Promise<number> {
  try {
    const client = clientFor(o);
    const monitors: Monitor[] = [];
    let pageToken = '';
    do {
      const res = await client.listMonitors({ includeDeleted: Boolean(o.all), limit: 1000, pageToken });
      monitors.push(...res.monitors);
      pageToken = res.nextPageToken;
    } while (pageToken !== '');
    io.out(o.json ? toJson(monitors) : formatMonitorList(monitors));
    return 0;
  } catch (err) {
    return failure(err, io);
  }
}

export async function runMonitorRm(id: string, o: CommonOptions, io: MonitorCliIo = stdio): Promise<number> {
  try {
    const res = await clientFor(o).deleteMonitor({ id });
    io.out(o.json ? toJson(res.monitor) : `deleted ${id}`);
    return 0;
  } catch (err) {
    return failure(err, io);
  }
}

export async function runMonitorShow(id: string, o: CommonOptions & { results?: string }, io: MonitorCliIo = stdio): Promise<number> {
  try {
    const client = clientFor(o);
    const [m, uptime, results] = await Promise.all([
      client.getMonitor({ id }),
      client.getUptime({ monitorId: id }),
      client.listResults({ monitorId: id, limit: Number(o.results ?? 10) }),
    ]);
    if (o.json) io.out(toJson({ monitor: m.monitor, uptime, results: results.results }));
    else io.out(formatMonitorShow(m.monitor!, uptime, results.results));
    return 0;
  } catch (err) {
    return failure(err, io);
  }
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerMonitorCommand(program: Command): void {
  const monitor = program.command('monitor').description('Manage uptime monitors on a running server (MonitorsService).');
  const common = connectOptions;

  common(
    monitor
      .command('add')
      .description('Create a monitor.')
      .requiredOption('--url <url>', 'target: http(s)://…, tcp://host:port, dns://name, tls://host:port')
      .option('--name <name>', 'display name (default: the URL host)')
      .option('--type <type>', `${checkTypeNames().join(' | ')} (default: from the URL scheme)`)
      .option('--method <method>', 'HTTP method', 'GET')
      .option('--interval <duration>', 'how often (e.g. 30s, 5m)', '60s')
      .option('--timeout-check <duration>', 'check timeout (default: min(10s, interval))')
      .option('--header <name: value>', 'request header (repeatable)', collect)
      .option('--body <text>', 'request body')
      .option('--assert <assertion>', 'assertion, e.g. "status == 200" (repeatable; see docs/assertions.md)', collect)
      .option('--region <region>', 'region that runs it (repeatable; default global)', collect)
      .option('--option <key=value>', 'check option: follow_redirects, tls_verify, record_type, resolver, expected_san (repeatable)', collect)
      .option('--disabled', 'create it disabled'),
  ).action(async (opts: AddOptions) => {
    process.exitCode = await runMonitorAdd(opts);
  });

  common(monitor.command('list').description('List monitors.').option('--all', 'include deleted monitors')).action(
    async (opts: CommonOptions & { all?: boolean }) => {
      process.exitCode = await runMonitorList(opts);
    },
  );

  common(monitor.command('rm').argument('<id>', 'monitor id').description('Delete a monitor (soft delete; kept in the audit log).')).action(
    async (id: string, opts: CommonOptions) => {
      process.exitCode = await runMonitorRm(id, opts);
    },
  );

  registerMonitorApply(monitor, common);

  common(
    monitor
      .command('show')
      .argument('<id>', 'monitor id')
      .description('Show a monitor with its uptime (24h/7d/30d), latency percentiles and latest results.')
      .option('--results <n>', 'how many latest results', '10'),
  ).action(async (id: string, opts: CommonOptions & { results?: string }) => {
    process.exitCode = await runMonitorShow(id, opts);
  });
}
