import type { Command } from 'commander';
import { parsePositiveDurationFlag } from '../platform/duration.js';

interface RouteOptions {
  server: string;
  apiKey?: string;
  tier?: string;
  lat?: string;
  lon?: string;
  clientIp?: string;
  sticky?: string;
  stickyHeader?: string;
  path?: string;
  region?: string;
  explain?: boolean;
  release?: boolean;
  json?: boolean;
  timeout: string;
}

type Json = Record<string, unknown>;

const num = (v: unknown, digits = 2): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');

/** One line describing a successful decision. */
export function formatDecision(d: Json): string {
  const parts = [`${String(d.tier)} → ${String(d.hostname)} (${String(d.client_id)}) ${String(d.endpoint)}`];
  if (typeof d.distance_km === 'number') parts.push(`distance ${num(d.distance_km, 1)} km`);
  if (d.sticky === true) parts.push('sticky');
  if (typeof d.reservation_id === 'string' && d.reservation_id !== '') parts.push(`reservation ${d.reservation_id}`);
  return parts.join(', ');
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/**
 * How an eligible row's distance term came about: measured RTT (with its age) or great-circle km.
 * Only routing_distance: measured mixes the two, so only then is the source named.
 */
export function formatDistance(r: Json, measuredMode: boolean): string {
  const s = (r.score ?? {}) as Json;
  const d = (r.distance ?? null) as Json | null;
  const km = s.distance_km === null || s.distance_km === undefined ? '–' : `${num(s.distance_km)} km`;
  if (d === null || !measuredMode) return `distance ${km}`;
  if (d.source === 'measured') {
    const hav = typeof d.haversine_km === 'number' ? `, haversine ${num(d.haversine_km)} km` : '';
    return `distance ${km} (measured rtt ${num(d.measured_rtt_ms)} ms, ${num(Number(d.measured_age_ms) / 1000, 1)} s old, ${String(d.measured_samples)} samples${hav})`;
  }
  return `distance ${km} (${String(d.source)})`;
}

/** The `--explain` report: the decision, then one row per backend (why filtered, or its score terms). */
export function formatExplain(body: Json): string {
  const decision = (body.decision ?? {}) as Json;
  const rows = (Array.isArray(body.backends) ? body.backends : []) as Json[];
  const lines: string[] = [];
  lines.push(
    decision.status === 200
      ? `decision: ${formatDecision({ ...decision, reservation_id: '' })}`
      : `decision: ${String(decision.status)} ${String(decision.error ?? '')}`,
  );
  const measuredMode = body.routing_distance === 'measured';
  if (measuredMode) {
    lines.push(`routing_distance: ${body.routing_distance}, client region: ${typeof body.region === 'string' ? body.region : 'none'}`);
  }
  if (rows.length === 0) {
    lines.push('no backends registered');
    return lines.join('\n');
  }
  const sorted = [...rows].sort((a, b) => {
    if (a.eligible !== b.eligible) return a.eligible ? -1 : 1;
    const ta = ((a.score ?? {}) as Json).total as number | undefined;
    const tb = ((b.score ?? {}) as Json).total as number | undefined;
    if (ta !== undefined && tb !== undefined && ta !== tb) return ta - tb;
    return String(a.client_id) < String(b.client_id) ? -1 : 1;
  });
  const w1 = Math.max(9, ...sorted.map((r) => String(r.client_id).length));
  const w2 = Math.max(8, ...sorted.map((r) => String(r.hostname).length));
  lines.push(`${pad('CLIENT_ID', w1)}  ${pad('HOSTNAME', w2)}  ELIGIBLE  WHY / SCORE`);
  for (const r of sorted) {
    let why: string;
    if (r.eligible === true) {
      const s = (r.score ?? {}) as Json;
      why =
        `score ${num(s.total)} = ${formatDistance(r, measuredMode)}` +
        ` + cpu ${num(s.cpu)} + memory ${num(s.memory)} + gpu ${num(s.gpu)} + latency ${num(s.latency_ms)} ms`;
    } else {
      why = `filtered: ${String(r.reason ?? '?')}${r.detail ? ` (${String(r.detail)})` : ''}`;
    }
    lines.push(`${pad(String(r.client_id), w1)}  ${pad(String(r.hostname), w2)}  ${pad(r.eligible ? 'yes' : 'no', 8)}  ${why}`);
  }
  return lines.join('\n');
}

function parseCoord(name: string, v: string | undefined, limit: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || Math.abs(n) > limit) throw new Error(`--${name}: expected a number between -${limit} and ${limit}, got "${v}"`);
  return n;
}

async function runRoute(opts: RouteOptions): Promise<number> {
  const lat = parseCoord('lat', opts.lat, 90);
  const lon = parseCoord('lon', opts.lon, 180);
  if ((lat === undefined) !== (lon === undefined)) throw new Error('--lat and --lon must be given together');
  const timeoutMs = parsePositiveDurationFlag('--timeout', opts.timeout);
  const body: Json = {};
  if (opts.tier) body.tier = opts.tier;
  if (lat !== undefined) body.client_lat = lat;
  if (lon !== undefined) body.client_lon = lon;
  if (opts.clientIp) body.client_ip = opts.clientIp;
  if (opts.path) body.path = opts.path;
  if (opts.region) body.client_region = opts.region;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.sticky) {
    if (opts.stickyHeader) headers[opts.stickyHeader] = opts.sticky;
    else body.sticky_id = opts.sticky;
  }
  const key = opts.apiKey ?? process.env.VANTAGE_API_KEY;
  if (key) headers['x-api-key'] = key;
  const base = opts.server.replace(/\/+$/, '');
  const url = `${base}/route${opts.explain ? '?explain=1' : ''}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    process.stderr.write(`error: cannot reach ${base}: ${cause}\n`);
    return 1;
  }
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    process.stderr.write(`error: ${res.status} from ${url}: ${text.slice(0, 500)}\n`);
    return 1;
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  if (res.status !== 200) {
    if (!opts.json) process.stderr.write(`error: ${res.status}: ${String(json.error ?? text)}\n`);
    return res.status === 400 || res.status === 401 || res.status === 403 ? 2 : 1;
  }
  if (!opts.json) process.stdout.write(`${opts.explain ? formatExplain(json) : formatDecision(json)}\n`);
  if (opts.release && !opts.explain && typeof json.reservation_id === 'string') {
    const del = await fetch(`${base}/reservations/${encodeURIComponent(json.reservation_id)}`, {
      method: 'DELETE',
      headers: key ? { 'x-api-key': key } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!opts.json) process.stdout.write(del.status === 200 ? 'reservation released\n' : `release answered ${del.status}\n`);
  }
  return 0;
}

/** `vantage route`: asks a running server for a routing decision; `--explain` shows why per backend. */
export function registerRouteCommand(program: Command): void {
  program
    .command('route')
    .description(
      'Ask a running server for a routing decision (POST /route). This reserves capacity like any /route call ' +
        '(use --release to free it at once); --explain reserves nothing and prints, per backend, why it was ' +
        'filtered out or its score terms.',
    )
    .option('--server <url>', 'server URL', process.env.VANTAGE_SERVER_URL ?? 'http://127.0.0.1:8080')
    .option('--api-key <key>', 'X-API-Key (default: $VANTAGE_API_KEY)')
    .option('--tier <name>', 'tier (default: the server\'s default tier)')
    .option('--lat <degrees>', 'client latitude')
    .option('--lon <degrees>', 'client longitude')
    .option('--client-ip <ip>', 'client IP (located with the server\'s GeoIP database)')
    .option('--sticky <id>', 'sticky session id')
    .option('--sticky-header <name>', 'send --sticky in this header (the server\'s sticky_header); default: in the body as sticky_id')
    .option('--path <path>', 'request path, for path-based endpoint selection')
    .option('--region <name>', 'client_region: the client\'s monitoring region (routing_distance: measured)')
    .option('--explain', 'print why each backend was filtered out or how it scored (reserves nothing)')
    .option('--release', 'release the reservation right after printing the decision')
    .option('--json', 'print the server\'s JSON answer')
    .option('--timeout <duration>', 'request timeout, e.g. 10s or 500ms (a bare number is seconds)', '10s')
    .action(async (opts: RouteOptions) => {
      try {
        process.exitCode = await runRoute(opts);
      } catch (err) {
        process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 2;
      }
    });
}
