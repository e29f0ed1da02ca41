import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { tempStore, type TempStore } from './helpers.js';
import { seedJobs } from '../store/contract/fixtures.js';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.close());

const FIXTURE = fileURLToPath(new URL('./fixtures/lease-worker.ts', import.meta.url));

/** Seeds `n` ready jobs spread over 10 monitors, through the store interface. */
async function seedMany(n: number, now: number): Promise<string[]> {
  const ids: string[] = [];
  for (let m = 0; m < 10; m++) {
    const runs = Array.from({ length: Math.ceil((n - m) / 10) }, (_, k) => now - m - 10 * k);
    ids.push(...(await seedJobs(t.store, { monitorId: `m${m}`, runs, now })));
  }
  return ids;
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
    const seeded = await seedMany(10_000, now);
    expect(seeded).toHaveLength(10_000);
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
    const owner = new Map(all.map(([w, id]) => [id, w]));
    for (const id of seeded) expect(await t.store.getJob(id)).toMatchObject({ status: 'done', outcome: 'result', worker_id: owner.get(id) });
    const stored = [];
    for (let m = 0; m < 10; m++) stored.push(...(await t.store.listResults({ monitorId: `m${m}`, limit: 10_000 })));
    expect(stored).toHaveLength(10_000);
    for (const r of stored) expect(r.worker_id).toBe(owner.get(r.run_id));
  }, 120_000);
});
