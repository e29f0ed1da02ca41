/**
 * End to end with real processes: `vantage server` (SQLite file, worker API on
 * its own port) and agent processes running the monitoring worker, checking a
 * real local HTTP target.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/fake-worker-api.js';
import { startHttp } from './helpers/servers.js';
import type { Running } from './helpers/servers.js';
import { agentKeys, freePort, startAgentProcess, startServerProcess, tempDir } from './helpers/system.js';
import type { AgentProc, ServerProc } from './helpers/system.js';

/** Target: /slow-once/KEY?delay=MS answers the first request for KEY after MS, later ones at once. */
let target: Running;
const seen = new Map<string, number>();
const answered = new Map<string, number>();
beforeAll(async () => {
  target = await startHttp((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = url.pathname.split('/')[2] ?? '';
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    const delay = n === 1 ? Number(url.searchParams.get('delay') ?? '0') : 0;
    const t = setTimeout(() => {
      res.end('ok');
      answered.set(key, (answered.get(key) ?? 0) + 1);
    }, delay);
    res.on('close', () => clearTimeout(t));
  });
});
afterAll(() => target.close());

const procs: Array<{ kill(): Promise<void> }> = [];
const dirs: Array<{ remove(): void }> = [];
afterEach(async () => {
  while (procs.length > 0) await procs.pop()?.kill();
  while (dirs.length > 0) dirs.pop()?.remove();
});

async function server(dir: string, keys: Record<string, unknown>): Promise<ServerProc> {
  const s = await startServerProcess(dir, { server_key: 'k', database: join(dir, 'v.db'), ...keys });
  procs.push(s);
  return s;
}

function agent(s: { url: string; workerUrl: string }, dir: string, name: string): AgentProc {
  const a = startAgentProcess({
    ...agentKeys(s, dir, name),
    report_interval_seconds: 60,
    stats_every_ms: 100,
  });
  procs.push(a);
  return a;
}

async function results(s: ServerProc, monitorId: string) {
  const r = await s.monitors.listResults({ monitorId, limit: 100 });
  return r.results;
}

describe('monitoring end to end (real server and agent processes)', () => {
  it('re-runs the jobs of a killed agent on another agent within lease + reaper interval, storing one result', async () => {
    const dir = tempDir('vantage-e2e-');
    dirs.push(dir);
    const s = await server(dir.path, { worker_port: await freePort(), lease_timeout_seconds: 3, reaper_interval_seconds: 1 });
    const a = agent(s, dir.path, 'agent-a');
    await waitFor(() => a.lastStats()?.stats.connected === true, 'agent A registered', 20_000);
    const created = await s.monitors.createMonitor({
      monitor: { name: 'killed', url: `http://127.0.0.1:${target.port}/slow-once/killed?delay=60000`, intervalMs: 60_000n, timeoutMs: 30_000n, assertions: ['status == 200'] },
    });
    const id = created.monitor?.id ?? '';
    await waitFor(() => seen.get('killed') === 1, 'agent A running the check', 15_000);
    const b = agent(s, dir.path, 'agent-b');
    await waitFor(() => b.lastStats()?.stats.connected === true, 'agent B registered', 20_000);
    await a.kill();
    const killedAt = Date.now();
    let stored: Awaited<ReturnType<typeof results>> = [];
    await waitFor(() => seen.get('killed') === 2, 'agent B re-running the job', 15_000);
    const rerunAfter = Date.now() - killedAt;
    // A leased the job before it was killed: lease 3 s + reaper period 1 s, plus dispatch slack
    expect(rerunAfter).toBeLessThan(3000 + 1000 + 1500);
    const deadline = Date.now() + 10_000;
    while (stored.length === 0 && Date.now() < deadline) {
      stored = await results(s, id);
      if (stored.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 'up', httpCode: 200, workerId: b.lastStats()?.stats.workerId });
    await waitFor(() => b.lastStats()?.stats.resultsAcked === 1, 'B acked', 5000);
    expect(await results(s, id)).toHaveLength(1);
  }, 90_000);

  it('does not store the late result of a paused agent whose job was re-run elsewhere', async () => {
    const dir = tempDir('vantage-e2e-');
    dirs.push(dir);
    // The paused agent's stream stays open: until its missed pong closes it, the re-queued job may be offered
    // to it again. A short ping interval bounds that (with the 15 s default, a loaded machine took > 45 s).
    const s = await server(dir.path, {
      worker_port: await freePort(),
      lease_timeout_seconds: 3,
      reaper_interval_seconds: 1,
      stream_ping_interval_seconds: 1,
      stream_pong_timeout_seconds: 3,
    });
    const c = agent(s, dir.path, 'agent-c');
    await waitFor(() => c.lastStats()?.stats.connected === true, 'agent C registered', 20_000);
    const created = await s.monitors.createMonitor({
      monitor: { name: 'paused', url: `http://127.0.0.1:${target.port}/slow-once/paused?delay=2000`, intervalMs: 60_000n, timeoutMs: 30_000n },
    });
    const id = created.monitor?.id ?? '';
    await waitFor(() => seen.get('paused') === 1, 'agent C running the check', 15_000);
    c.child.kill('SIGSTOP'); // holds the lease but stops renewing it
    try {
      const b = agent(s, dir.path, 'agent-b2');
      await waitFor(() => seen.get('paused') === 2, 'agent B re-running the job', 45_000);
      await waitFor(() => b.lastStats()?.stats.resultsAcked === 1, 'B stored its result', 10_000);
      await waitFor(() => answered.get('paused') === 2, 'C’s request answered too', 10_000);
    } finally {
      c.child.kill('SIGCONT');
    }
    // C wakes up with a finished check for a lease it no longer holds: the server refuses it
    await waitFor(() => {
      const st = c.lastStats()?.stats as { resultsDropped?: number; leasesLost?: number; unacked: number } | undefined;
      return st !== undefined && (st.resultsDropped ?? 0) + (st.leasesLost ?? 0) >= 1 && st.unacked === 0;
    }, 'C dropped its result', 15_000);
    const stored = await results(s, id);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.workerId).not.toBe(c.lastStats()?.stats.workerId);
  }, 90_000);

  it('keeps an unacked result across a control-plane restart and delivers it once', async () => {
    const dir = tempDir('vantage-e2e-');
    dirs.push(dir);
    const keys = { port: await freePort(), worker_port: await freePort() };
    const s1 = await server(dir.path, keys);
    const a = agent(s1, dir.path, 'agent-r');
    await waitFor(() => a.lastStats()?.stats.connected === true, 'agent registered', 20_000);
    const created = await s1.monitors.createMonitor({
      monitor: { name: 'restart', url: `http://127.0.0.1:${target.port}/slow-once/restart?delay=1500`, intervalMs: 60_000n, timeoutMs: 20_000n, assertions: ['status == 200'] },
    });
    const id = created.monitor?.id ?? '';
    await waitFor(() => seen.get('restart') === 1, 'check running', 15_000);
    await s1.kill(); // the control plane dies while the check runs
    await waitFor(() => a.lastStats()?.stats.checksCompleted === 1, 'check finished while the server is down', 10_000);
    expect(a.lastStats()?.stats).toMatchObject({ connected: false, unacked: 1 });
    const s2 = await server(dir.path, keys);
    await waitFor(() => a.lastStats()?.stats.unacked === 0, 'result delivered after restart', 20_000);
    const stored = await results(s2, id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 'up', httpCode: 200 });
    expect(seen.get('restart')).toBe(1); // delivered, not re-run
    expect(a.lastStats()?.stats.resultsAcked).toBe(1);
  }, 90_000);
});
