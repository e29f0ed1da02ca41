import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { newRunId } from '../../src/platform/ids.js';
import { result, spec, tempStore, type TempStore } from './helpers.js';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.close());

const FIXTURE = fileURLToPath(new URL('./fixtures/lease-worker.ts', import.meta.url));

/** Inserts `n` ready jobs spread over a few monitors (direct SQL: this is about leasing, not scheduling). */
async function seedJobs(n: number, now: number): Promise<void> {
  for (let m = 0; m < 10; m++) await t.store.createMonitor(spec(), { id: `m${m}`, actor: 't', now, jitterSeed: m });
  const ins = t.db.prepare(`INSERT INTO jobs (run_id, monitor_id, region, status, scheduled_at, created_at) VALUES (?, ?, 'global', 'ready', ?, ?)`);
  t.db.transaction(() => {
    for (let i = 0; i < n; i++) ins.run(newRunId(), `m${i % 10}`, now - i, now);
  })();
}

type ChildResult = { leased: Array<[string, string]>; completed: number; rejected: number };

/** Starts a lease-worker process; `ready` resolves once it has opened the database and waits for `go()`. */
function startChild(prefix: string, workers: number): { ready: Promise<void>; go: () => void; done: Promise<ChildResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, t.path, prefix, String(workers)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`lease worker ${prefix} exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
    });
  });
  // A child that dies before it is ready fails the test through `done`, not a hang.
  void done.catch(() => markReady());
  return { ready, go: () => child.stdin.end('go\n'), done };
}

describe('exactly-once leasing', () => {
  it('20 concurrent workers in 4 processes (own connections) × 10 000 jobs: every job leased exactly once', async () => {
    const now = Date.now();
    await seedJobs(10_000, now);
    const children = ['p0', 'p1', 'p2', 'p3'].map((p) => startChild(p, 5));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const results = await Promise.all(children.map((c) => c.done));
    const all = results.flatMap((r) => r.leased);
    const runIds = all.map(([, id]) => id);
    expect(runIds.length).toBe(10_000);
    expect(new Set(runIds).size).toBe(10_000);
    // real concurrency happened: every process got a share
    for (const r of results) expect(r.leased.length).toBeGreaterThan(0);
    expect(new Set(all.map(([w]) => w)).size).toBeGreaterThan(4);
    expect(results.reduce((a, r) => a + r.completed, 0)).toBe(10_000);
    expect(results.reduce((a, r) => a + r.rejected, 0)).toBe(0);
    // the database agrees on who ran what
    const rows = t.db.prepare(`SELECT run_id, worker_id, status FROM jobs`).all() as Array<{ run_id: string; worker_id: string; status: string }>;
    const owner = new Map(all.map(([w, id]) => [id, w]));
    for (const r of rows) {
      expect(r.status).toBe('done');
      expect(r.worker_id).toBe(owner.get(r.run_id));
    }
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM results_raw').get()).toEqual({ n: 10_000 });
  }, 120_000);

  it('property: under random interleavings of lease/renew/complete/reap by many workers, a job is never held by two workers at once', async () => {
    const T0 = 1_700_000_000_000;
    const LEASE = 45_000;
    type Op =
      | { k: 'lease'; w: number; n: number }
      | { k: 'renew'; w: number }
      | { k: 'complete'; w: number; pick: number }
      | { k: 'tick'; dt: number }
      | { k: 'reap' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ k: fc.constant('lease' as const), w: fc.integer({ min: 0, max: 19 }), n: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ k: fc.constant('renew' as const), w: fc.integer({ min: 0, max: 19 }) }),
      fc.record({ k: fc.constant('complete' as const), w: fc.integer({ min: 0, max: 19 }), pick: fc.nat() }),
      fc.record({ k: fc.constant('tick' as const), dt: fc.integer({ min: 1, max: 30_000 }) }),
      fc.record({ k: fc.constant('reap' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 40 }), async (rounds) => {
        const local = tempStore();
        try {
          const s = local.store;
          await s.createMonitor(spec(), { id: 'm', actor: 't', now: T0, jitterSeed: 1 });
          const ins = local.db.prepare(`INSERT INTO jobs (run_id, monitor_id, region, status, scheduled_at, created_at) VALUES (?, 'm', 'global', 'ready', ?, ?)`);
          for (let i = 0; i < 30; i++) ins.run(`r${i}`, T0 - i, T0);
          let now = T0;
          /** What each worker believes it holds: run id → lease expiry it was told. */
          const held = Array.from({ length: 20 }, () => new Map<string, number>());
          const completedBy = new Map<string, number>();
          for (const round of rounds) {
            // the operations of one round run concurrently
            await Promise.all(
              round.map(async (op) => {
                if (op.k === 'tick') now += op.dt;
                else if (op.k === 'reap') await s.reapExpired({ now, maxAttempts: 3, missedBefore: 0 });
                else if (op.k === 'lease') {
                  const at = now;
                  const jobs = await s.leaseJobs({ workerId: `w${op.w}`, region: 'global', count: op.n, now: at, leadMs: 0, leaseMs: LEASE });
                  for (const j of jobs) {
                    // Nobody else may hold an unexpired lease on it, and nobody completed it.
                    held.forEach((h, w) => {
                      if (w !== op.w && h.has(j.run_id)) expect(h.get(j.run_id)!).toBeLessThan(at);
                    });
                    expect(completedBy.has(j.run_id)).toBe(false);
                    held[op.w]!.set(j.run_id, j.lease_expires_at);
                  }
                } else if (op.k === 'renew') {
                  const ids = [...held[op.w]!.keys()];
                  // `now` may move (a concurrent tick) while the renewal is in flight: the lease runs from the renewal's own time.
                  const at = now;
                  const r = await s.renewLeases({ workerId: `w${op.w}`, runIds: ids, now: at, leaseMs: LEASE });
                  for (const id of r.renewed) held[op.w]!.set(id, at + LEASE);
                  for (const id of r.lost) held[op.w]!.delete(id);
                } else {
                  const ids = [...held[op.w]!.keys()];
                  if (ids.length === 0) return;
                  const id = ids[op.pick % ids.length]!;
                  const [o] = await s.ingestResults([{ workerId: `w${op.w}`, result: result(id, now) }], now);
                  if (o === 'stored') {
                    expect(completedBy.has(id)).toBe(false);
                    completedBy.set(id, op.w);
                  }
                  held[op.w]!.delete(id);
                }
              }),
            );
          }
          // Every stored result came from the worker the job row names.
          const rows = local.db.prepare(`SELECT run_id, worker_id FROM results_raw WHERE status != 'expired'`).all() as Array<{ run_id: string; worker_id: string }>;
          expect(rows.length).toBe(completedBy.size);
          for (const r of rows) expect(r.worker_id).toBe(`w${completedBy.get(r.run_id)}`);
        } finally {
          local.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
