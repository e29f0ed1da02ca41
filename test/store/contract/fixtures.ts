/**
 * Builders for the store contract suite (and the tests that use a real store): monitors, results, backends and
 * stats reports, and seeding jobs through the interface (scheduleDue with an explicit plan), never through SQL.
 */
import type { LbClient, LbStats } from '../../../src/store/lb.js';
import type { MonitoringStore, MonitorSpec, ResultInput } from '../../../src/store/monitoring.js';

export function spec(over: Partial<MonitorSpec> = {}): MonitorSpec {
  return {
    name: 'example',
    type: 'http',
    url: 'http://127.0.0.1:9/health',
    method: 'GET',
    headers: {},
    body: '',
    interval_ms: 30_000,
    timeout_ms: 10_000,
    assertions: [],
    assertions_compiled: [],
    options: {},
    regions: ['global'],
    enabled: true,
    ...over,
  };
}

export function result(runId: string, eventAt: number, over: Partial<ResultInput> = {}): ResultInput {
  return {
    run_id: runId,
    event_at: eventAt,
    status: 'up',
    http_code: 200,
    dns_ms: 1,
    connect_ms: 1,
    tls_ms: null,
    ttfb_ms: 5,
    download_ms: 1,
    total_ms: 8,
    size_bytes: 100,
    error: null,
    error_class: null,
    assertions: null,
    details: null,
    started_at: eventAt,
    finished_at: eventAt + 8,
    ...over,
  };
}

export function client(id: string, over: Partial<LbClient> = {}): LbClient {
  return {
    clientId: id,
    hostname: `${id}.example`,
    endpoint: `http://${id}:11000`,
    publicIp: '203.0.113.5',
    localIp: '10.0.0.5',
    lat: 0,
    lon: 0,
    country: 'NL',
    city: 'Amsterdam',
    totalCpu: 8,
    totalMemoryGb: 16,
    totalStorageGb: 100,
    totalGpus: 0,
    gpuModels: [],
    endpoints: [{ url: 'http://x:1', paths: ['/api/*'] }],
    createdAt: 1000,
    lastSeen: 1000,
    ...over,
  };
}

export function stats(id: string, timestamp: number, over: Partial<LbStats> = {}): LbStats {
  return {
    clientId: id,
    timestamp,
    cpuUsage: [10, 20.5, 30, 40],
    memoryTotalGb: 16,
    memoryUsedGb: 4,
    memoryAvailGb: 12,
    diskTotalGb: 100,
    diskUsedGb: 10,
    diskAvailGb: 90,
    gpus: [],
    ...over,
  };
}

/** Far enough ahead that a seeded monitor is never due again in a test. */
const NEVER_AGAIN = 100 * 365 * 86_400_000;

/**
 * Creates monitor `monitorId` (or re-arms it when it exists: disabled and enabled again with `spec`, which makes
 * it due now and cancels only its ready jobs) and, through scheduleDue, one ready job per (run time, region).
 * Returns the run ids in creation order: `${monitorId}-r<n>`, n counting up within this process.
 * The monitor's next slot is moved out of reach, so later seeding, which schedules every due monitor, never adds
 * runs to it.
 */
export async function seedJobs(
  store: MonitoringStore,
  opts: { monitorId: string; runs: readonly number[]; now: number; spec?: Partial<MonitorSpec> },
): Promise<string[]> {
  const meta = { actor: 'seed', now: opts.now };
  if (await store.getMonitor(opts.monitorId)) {
    await store.updateMonitor(opts.monitorId, { enabled: false }, meta);
    await store.updateMonitor(opts.monitorId, { ...opts.spec, enabled: true }, meta);
  } else {
    await store.createMonitor(spec(opts.spec), { id: opts.monitorId, ...meta, jitterSeed: 1 });
  }
  const ids: string[] = [];
  let n = seededRuns.get(opts.monitorId) ?? 0;
  await store.scheduleDue(
    opts.now,
    0,
    () => ({ runs: [...opts.runs], nextDueAt: opts.now + NEVER_AGAIN, catchUp: false }),
    () => {
      const id = `${opts.monitorId}-r${n++}`;
      ids.push(id);
      return id;
    },
  );
  seededRuns.set(opts.monitorId, n);
  return ids;
}
const seededRuns = new Map<string, number>();

/**
 * Seeds one job per run time in `region` and leases them all to `workerId` (for tests about what happens after
 * leasing: ingest, rollups). Returns the run ids in the order of `runs`; the times must be distinct.
 */
export async function seedLeasedJobs(
  store: MonitoringStore,
  opts: { monitorId: string; region?: string; runs: readonly number[]; now: number; workerId: string; spec?: Partial<MonitorSpec> },
): Promise<string[]> {
  const region = opts.region ?? 'global';
  const ids = await seedJobs(store, { monitorId: opts.monitorId, runs: opts.runs, now: opts.now, spec: { ...opts.spec, regions: [region] } });
  const latest = Math.max(...opts.runs);
  const leased = await store.leaseJobs({ workerId: opts.workerId, region, count: ids.length, now: latest, leadMs: 0, leaseMs: NEVER_AGAIN });
  const mine = new Set(ids);
  if (leased.filter((j) => mine.has(j.run_id)).length !== ids.length) throw new Error(`seedLeasedJobs: leased ${leased.length} of ${ids.length} jobs`);
  return ids;
}
