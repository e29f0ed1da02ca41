import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Tier } from '../../config/tiers.js';
import { RoutingEngine } from './engine.js';
import { gpu, manualClock, registration } from '../../../test/support/synthetic.js';
import { verifyIndex } from '../../../test/support/verify-index.js';
import type { BackendStats, BackendView, GpuStats, HealthStatus, RouteDecision, RouteRequest } from './types.js';

const TIERS: Tier[] = [
  { name: 't1', vcpu: 1, memory_gb: 2, storage_gb: 5, gpu: 0, gpu_memory_gb: 0 },
  { name: 't2', vcpu: 2, memory_gb: 4, storage_gb: 10, gpu: 0, gpu_memory_gb: 0 },
  { name: 'g1', vcpu: 1, memory_gb: 1, storage_gb: 1, gpu: 1, gpu_memory_gb: 8 },
  { name: 'g2', vcpu: 1, memory_gb: 1, storage_gb: 1, gpu: 2, gpu_memory_gb: 4 },
  { name: 'z', vcpu: 0, memory_gb: 0, storage_gb: 0, gpu: 0, gpu_memory_gb: 0 },
];
const TIER_BY = new Map(TIERS.map((t) => [t.name, t]));
const IDS = ['b0', 'b1', 'b2', 'b3', 'b4', 'b5'];
const REGIONS = ['eu', 'us'];
// Region locations inside the test box, so that located requests map to either.
const REGION_LOCATIONS = new Map([
  ['eu', { lat: 41, lon: 0.5 }],
  ['us', { lat: 42.5, lon: 2.5 }],
]);

// ---------------------------------------------------------------- arbitraries

const coreArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 5, 10, 25, 40, 60, 79.9) }, { weight: 1, arbitrary: fc.constantFrom(80, 95, 100) });
// A small box (~330 × 250 km), so that distances are comparable to the other score terms and the
// spatial search has to weigh distance against load; plus an occasional far-away point.
const locArb = fc.option(
  fc.oneof(
    { weight: 9, arbitrary: fc.record({ lat: fc.double({ min: 40, max: 43, noNaN: true }), lon: fc.double({ min: 0, max: 3, noNaN: true }) }) },
    { weight: 1, arbitrary: fc.record({ lat: fc.double({ min: -60, max: 60, noNaN: true }), lon: fc.double({ min: -180, max: 180, noNaN: true }) }) },
  ),
  { nil: null, freq: 5 },
);
const gpuArb = fc.record({
  util: fc.option(fc.constantFrom(0, 10, 50, 90), { nil: null }),
  total: fc.option(fc.constantFrom(8, 16, 24), { nil: null }),
  used: fc.constantFrom(0, 2, 6, 12),
});
const statsArb: fc.Arbitrary<BackendStats> = fc
  .record({
    cpu: fc.array(coreArb, { minLength: 0, maxLength: 8 }),
    memTotal: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 9, arbitrary: fc.constantFrom(4, 8, 16, 32) }),
    memFrac: fc.constantFrom(0, 0.25, 0.5, 0.75, 1),
    diskAvail: fc.constantFrom(0, 5, 10, 12, 20, 40, 80),
    gpus: fc.array(gpuArb, { maxLength: 4 }),
    loc: fc.option(locArb, { nil: undefined }),
  })
  .map((r) => {
    const memAvail = r.memTotal * r.memFrac;
    const gpus = r.gpus.map((g, i) => gpu(i, g.util, g.total === null ? null : Math.min(g.used, g.total), g.total));
    return {
      timestamp: 0,
      cpuUsage: r.cpu,
      memoryTotalGb: r.memTotal,
      memoryUsedGb: r.memTotal - memAvail,
      memoryAvailGb: memAvail,
      diskTotalGb: 50,
      diskUsedGb: 50 - r.diskAvail,
      diskAvailGb: r.diskAvail,
      gpus,
      ...(r.loc !== undefined && r.loc !== null ? { lat: r.loc.lat, lon: r.loc.lon } : {}),
    };
  });

const reqArb: fc.Arbitrary<RouteRequest> = fc
  .record({
    tier: fc.option(fc.constantFrom(...TIERS.map((t) => t.name), 'nope'), { nil: null }),
    loc: locArb,
    sticky: fc.option(fc.constantFrom('s1', 's2', 's3'), { nil: null }),
    exclude: fc.option(fc.subarray(IDS, { maxLength: 2 }), { nil: undefined }),
    region: fc.option(fc.constantFrom(...REGIONS, 'elsewhere'), { nil: undefined, freq: 2 }),
  })
  .map((r) => ({
    tier: r.tier,
    ...(r.region !== undefined ? { region: r.region } : {}),
    ...(r.loc !== null ? { lat: r.loc.lat, lon: r.loc.lon } : {}),
    stickyId: r.sticky,
    ...(r.exclude !== undefined ? { exclude: new Set(r.exclude) } : {}),
  }));

type Op =
  | { op: 'register'; id: string; loc: { lat: number; lon: number } | null }
  | { op: 'stats'; id: string; stats: BackendStats }
  | { op: 'health'; id: string; status: HealthStatus; latency: number | null | undefined }
  | { op: 'latency'; id: string; ms: number }
  | { op: 'rtt'; region: string; id: string; ms: number }
  | { op: 'advance'; ms: number }
  | { op: 'route'; req: RouteRequest }
  | { op: 'release'; k: number }
  | { op: 'remove'; id: string };

const idArb = fc.constantFrom(...IDS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('register' as const), id: idArb, loc: locArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('stats' as const), id: idArb, stats: statsArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('health' as const),
      id: idArb,
      status: fc.constantFrom<HealthStatus>('unknown', 'healthy', 'unhealthy'),
      latency: fc.option(fc.constantFrom(null, 1, 25), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('latency' as const), id: idArb, ms: fc.constantFrom(0, 3, 40) }) },
  // RTTs × 100 km/ms give distances comparable to the box's (0–400 km) and ties (equal samples).
  { weight: 6, arbitrary: fc.record({ op: fc.constant('rtt' as const), region: fc.constantFrom(...REGIONS), id: idArb, ms: fc.constantFrom(0, 0.5, 1, 2, 4, 40) }) },
  // 90 000 and 90 001 ms: a matrix entry is still known at 3 probe intervals (30 s) and expires just after.
  { weight: 1, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(0, 1000, 60_000, 90_000, 90_001, 119_999, 120_000, 300_001) }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant('route' as const), req: reqArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), k: fc.nat({ max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), id: idArb }) },
);

// ---------------------------------------------------------------- checks

function comparable(d: RouteDecision): unknown {
  if (!d.ok) return d;
  const { reservationId: _r, ...rest } = d;
  return rest;
}

const freeVram = (g: GpuStats): number => (g.memoryTotalGb === null || g.memoryUsedGb === null ? NaN : g.memoryTotalGb - g.memoryUsedGb);

/** Capacity check of one backend after a decision that reserved `tier` on it (independent maths). */
function overCommitted(engine: RoutingEngine, view: BackendView, d: Extract<RouteDecision, { ok: true }>): string | null {
  const s = view.stats;
  if (s === null) return 'no stats';
  const tier = TIER_BY.get(d.tier)!;
  const mine = engine.reservations().filter((r) => r.clientId === view.clientId);
  const sum = (f: (r: (typeof mine)[number]) => number): number => mine.reduce((a, r) => a + f(r), 0);
  const cores = s.cpuUsage.filter((u) => u < 80).length;
  if (tier.vcpu > 0 && sum((r) => r.vcpu) > cores) return `cpu ${sum((r) => r.vcpu)} > ${cores}`;
  if (tier.memory_gb > 0 && sum((r) => r.memoryGb) > s.memoryAvailGb + 1e-9) return `memory ${sum((r) => r.memoryGb)} > ${s.memoryAvailGb}`;
  if (tier.storage_gb > 0 && sum((r) => r.storageGb) > s.diskAvailGb + 1e-9) return `disk ${sum((r) => r.storageGb)} > ${s.diskAvailGb}`;
  if (d.gpuDeviceIds.length !== tier.gpu) return `gpu count ${d.gpuDeviceIds.length} != ${tier.gpu}`;
  for (const id of d.gpuDeviceIds) {
    const dev = s.gpus.find((g) => g.deviceId === id);
    if (dev === undefined) return `gpu ${id} missing`;
    if (tier.gpu_memory_gb > 0 && !(freeVram(dev) >= tier.gpu_memory_gb)) return `gpu ${id} lacks VRAM`;
    const holders = mine.filter((r) => r.gpuDeviceIds.includes(id)).length;
    if (holders !== 1) return `gpu ${id} held ${holders} times`;
  }
  return null;
}

function engines(routingDistance: 'haversine' | 'measured' = 'haversine') {
  const clock = manualClock();
  const opts = { tiers: TIERS, staleMinutes: 5, pendingTimeoutSeconds: 120, stickyAffinity: true, healthCheckEnabled: true, now: clock.now, routingDistance };
  const indexed = new RoutingEngine(opts);
  const scan = new RoutingEngine({ ...opts, strategy: 'scan' });
  for (const e of [indexed, scan]) e.latency.setRegionLocations(REGION_LOCATIONS);
  return { clock, indexed, scan };
}

describe('routing properties', () => {
  it.each(['haversine', 'measured'] as const)('%s: the indexed engine decides exactly like the reference scan; the pick passes the filter; no over-commit', (mode) => {
    const tally = { ok: 0, okLocated: 0, fail: 0, measured: 0 };
    fc.assert(
      fc.property(fc.array(fc.record({ loc: locArb, stats: statsArb }), { minLength: IDS.length, maxLength: IDS.length }), fc.array(opArb, { minLength: 10, maxLength: 60 }), (initial, ops) => {
        const { clock, indexed, scan } = engines(mode);
        initial.forEach((m, i) => {
          const reg = registration(IDS[i]!, m.loc ?? {});
          for (const e of [indexed, scan]) {
            e.register(reg);
            e.reportStats(IDS[i]!, m.stats);
          }
        });
        const pairs: [string, string][] = [];
        for (const op of ops) {
          switch (op.op) {
            case 'register': {
              const reg = registration(op.id, op.loc ?? {});
              indexed.register(reg);
              scan.register(reg);
              break;
            }
            case 'stats':
              expect(indexed.reportStats(op.id, op.stats)).toBe(scan.reportStats(op.id, op.stats));
              break;
            case 'health':
              indexed.setHealth(op.id, op.status, op.latency);
              scan.setHealth(op.id, op.status, op.latency);
              break;
            case 'latency':
              indexed.recordLatency(op.id, op.ms);
              scan.recordLatency(op.id, op.ms);
              break;
            case 'rtt':
              expect(indexed.latency.recordRtt(op.region, op.id, op.ms)).toBe(scan.latency.recordRtt(op.region, op.id, op.ms));
              break;
            case 'advance':
              clock.advance(op.ms);
              break;
            case 'remove':
              expect(indexed.remove(op.id)).toBe(scan.remove(op.id));
              break;
            case 'release': {
              const p = pairs[op.k % Math.max(1, pairs.length)];
              if (p !== undefined) expect(indexed.release(p[0])).toBe(scan.release(p[1]));
              break;
            }
            case 'route': {
              const ex = indexed.explain(op.req);
              const a = indexed.route(op.req);
              const b = scan.route(op.req);
              expect(comparable(a)).toEqual(comparable(b));
              expect(comparable(ex.decision)).toEqual(comparable(a));
              tally[a.ok ? (a.distanceKm !== null ? 'okLocated' : 'ok') : 'fail']++;
              if (a.ok && b.ok) {
                pairs.push([a.reservationId, b.reservationId]);
                const row = ex.rows.find((r) => r.clientId === a.clientId);
                if (row?.distance?.source === 'measured' && !a.sticky) tally.measured++;
                // The chosen backend passed the filter (a sticky request may pass only thanks to its own reservation).
                if (op.req.stickyId === null || op.req.stickyId === undefined) expect(row?.eligible).toBe(true);
                expect(overCommitted(indexed, indexed.backend(a.clientId)!, a)).toBeNull();
              } else if (!a.ok && a.code === 'no_capacity') {
                expect(ex.rows.every((r) => !r.eligible || (op.req.stickyId ?? null) !== null)).toBe(true);
              }
              break;
            }
          }
          expect(indexed.counts()).toEqual(scan.counts());
          expect(verifyIndex(indexed)).toEqual([]);
        }
        expect(indexed.stickyAssignments()).toEqual(scan.stickyAssignments());
      }),
      { numRuns: 300 },
    );
    // The generators must reach interesting states, or the property proves little.
    expect(tally.ok).toBeGreaterThan(200);
    expect(tally.okLocated).toBeGreaterThan(300);
    expect(tally.fail).toBeGreaterThan(300);
    if (mode === 'measured') expect(tally.measured).toBeGreaterThan(50);
    else expect(tally.measured).toBe(0);
  });

  it('concurrent async callers never over-commit (random interleavings)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.record({ id: idArb, stats: statsArb, loc: locArb }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.array(fc.record({ req: reqArb, hold: fc.nat({ max: 3 }), release: fc.boolean() }), { minLength: 1, maxLength: 8 }), {
          minLength: 2,
          maxLength: 12,
        }),
        async (s, fleet, callers) => {
          const { indexed: engine } = engines();
          for (const m of fleet) {
            engine.register(registration(m.id, m.loc ?? {}));
            engine.reportStats(m.id, m.stats);
          }
          // Ledger kept from decisions alone: reservation id → what it holds.
          const ledger = new Map<string, { clientId: string; tier: Tier; gpus: readonly number[] }>();
          const stickyHeld = new Map<string, string>();
          const problems: string[] = [];
          const checkLedger = (clientId: string): void => {
            const st = engine.backend(clientId)!.stats!;
            const held = [...ledger.values()].filter((h) => h.clientId === clientId);
            const cores = st.cpuUsage.filter((u) => u < 80).length;
            const vcpu = held.reduce((a, h) => a + h.tier.vcpu, 0);
            const mem = held.reduce((a, h) => a + h.tier.memory_gb, 0);
            const disk = held.reduce((a, h) => a + h.tier.storage_gb, 0);
            if (vcpu > cores) problems.push(`${clientId}: cpu ${vcpu} > ${cores}`);
            if (mem > st.memoryAvailGb + 1e-9) problems.push(`${clientId}: memory ${mem} > ${st.memoryAvailGb}`);
            if (disk > st.diskAvailGb + 1e-9) problems.push(`${clientId}: disk ${disk} > ${st.diskAvailGb}`);
            const devs = held.flatMap((h) => h.gpus);
            if (new Set(devs).size !== devs.length) problems.push(`${clientId}: a GPU reserved twice`);
          };
          const run = async (steps: (typeof callers)[number], c: number): Promise<void> => {
            for (const step of steps) {
              // Sticky ids are per caller so that sessions do not share reservations across callers.
              const req = step.req.stickyId ? { ...step.req, stickyId: `${c}-${step.req.stickyId}` } : step.req;
              const d = engine.route(req);
              if (d.ok) {
                const key = req.stickyId ? `${req.stickyId}|${d.tier}` : null;
                const prev = key !== null ? stickyHeld.get(key) : undefined;
                if (prev !== d.reservationId) {
                  if (prev !== undefined) ledger.delete(prev);
                  ledger.set(d.reservationId, { clientId: d.clientId, tier: TIER_BY.get(d.tier)!, gpus: d.gpuDeviceIds });
                  if (key !== null) stickyHeld.set(key, d.reservationId);
                }
                checkLedger(d.clientId);
              }
              for (let h = 0; h < step.hold; h++) await s.schedule(Promise.resolve());
              if (d.ok && step.release && ledger.has(d.reservationId)) {
                expect(engine.release(d.reservationId)).toBe(true);
                ledger.delete(d.reservationId);
                for (const [k, v] of stickyHeld) if (v === d.reservationId) stickyHeld.delete(k);
              }
            }
          };
          const all = Promise.all(callers.map((steps, c) => run(steps, c)));
          await s.waitAll();
          await all;
          expect(problems).toEqual([]);
          expect(engine.counts().reservations).toBe(ledger.size);
        },
      ),
      { numRuns: 200 },
    );
  });
});
