import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../security/helpers.js';
import { baseConfig, MAIN, startServerProcess, waitFor, type ServerProcess } from '../security/server-helpers.js';

/**
 * Fault test: the server is SIGKILLed while several real agent processes report to it, a client registers
 * backends and asks for sticky routes, and a proxy client sends sticky sessions through the reverse proxy.
 * After a restart on the same port: every acknowledged registration is there, and the agents are reporting
 * again without anyone touching them.
 *
 * Sticky assignments: by design (DESIGN.md, server issue) they are written behind in batches, at most
 * WRITE_BEHIND_MS after the engine made them, so the guarantee tested here is that every assignment
 * acknowledged more than that window before the kill survives; how many younger ones were lost is printed.
 * The hardening issue asks for all of them; see the report: closing the window needs the server to persist new
 * assignments before answering.
 */
/** The write-behind flush interval (src/lb/write-behind.ts default) plus scheduling slack on a busy box. */
const WRITE_BEHIND_MS = 1000 + 1500;
const KEY = 'fault-key-0123456789abcdef0123456789abcdef';
const tmp = tempDir('vantage-fault-');
const backends: Server[] = [];
const agents: ChildProcess[] = [];
let server: ServerProcess | null = null;
const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 8 });

afterAll(async () => {
  for (const a of agents) a.kill('SIGKILL');
  await server?.stop();
  await Promise.all(backends.map((b) => new Promise((r) => b.close(r))));
  await dispatcher.close();
  tmp.cleanup();
});

async function startBackend(id: string): Promise<string> {
  const s = createServer((req, res) => {
    req.resume();
    const body = JSON.stringify({ backend: id, path: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  backends.push(s);
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function startAgent(id: string, serverUrl: string, endpoint: string): ChildProcess {
  const cfg = join(tmp.dir, `${id}.yml`);
  writeFileSync(
    cfg,
    stringify({
      server_url: serverUrl,
      server_key: KEY,
      endpoint_url: endpoint,
      client_id: id,
      hostname: id,
      report_interval_seconds: 1,
      sample_interval_seconds: 1,
      window_minutes: 1,
      skip_geolocation: true,
      monitoring_enabled: false,
      state_dir: join(tmp.dir, `${id}-state`),
      json_logging: true,
      log_level: 'info',
    }),
  );
  const child = spawn(process.execPath, [MAIN, 'agent', '--config', cfg], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'ignore', 'ignore'] });
  agents.push(child);
  return child;
}

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await request(`${base}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-api-key': KEY, ...headers },
    dispatcher,
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; json: unknown }> {
  const r = await request(`${base}${path}`, { headers: { 'x-api-key': KEY, ...headers }, dispatcher, headersTimeout: 5000, bodyTimeout: 5000 });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, json: text ? (JSON.parse(text) as unknown) : null };
}

describe('SIGKILL under load (real server, agent and backend processes)', () => {
  it('keeps every acknowledged registration and every acknowledged sticky assignment; agents recover by themselves', { timeout: 180_000 }, async () => {
    const cfg = baseConfig(tmp.dir, {
      server_key: KEY,
      rate_limit_per_minute: 1_000_000,
      rate_limit_burst: 1_000_000,
      proxy_endpoints: ['/app'],
      proxy_backend_header: true,
      sticky_header: 'X-Session-ID',
      tiers: [{ name: 'tiny', vcpu: 0, memory_gb: 0, storage_gb: 0 }],
      log_level: 'warn',
    });
    server = await startServerProcess(tmp.dir, cfg, 'fault');
    const base = server.url;
    const port = server.port;

    const agentIds = ['agent-1', 'agent-2', 'agent-3'];
    for (const id of agentIds) startAgent(id, base, await startBackend(id));
    const routable = await waitFor(
      async () => {
        const r = await post(base, '/route', { tier: 'tiny' });
        return r.status === 200 ? r : null;
      },
      'the agents to register and report',
      30_000,
      200,
    );
    expect(agentIds).toContain(routable.json.client_id);

    // Load: registrations, sticky /route calls and sticky proxied sessions, acknowledged ones recorded.
    const ackedRegistrations: string[] = [];
    const ackedSticky = new Map<string, { clientId: string; at: number }>();
    const ackedProxySessions = new Map<string, { clientId: string; at: number }>();
    let stop = false;
    let errors = 0;
    const loop = async (fn: (i: number) => Promise<void>) => {
      for (let i = 0; !stop; i++) {
        try {
          await fn(i);
        } catch {
          errors++;
          if (stop) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const workers = [
      ...[0, 1].map((w) =>
        loop(async (i) => {
          const id = `reg-${w}-${i}`;
          const r = await post(base, '/register', { client_id: id, hostname: id, total_cpu: 2, total_memory_gb: 4, total_storage_gb: 10, endpoint_url: 'http://127.0.0.1:9' });
          if (r.status === 200) ackedRegistrations.push(id);
        }),
      ),
      ...[0, 1].map((w) =>
        loop(async (i) => {
          const sid = `route-${w}-${i}`;
          const r = await post(base, '/route', { tier: 'tiny' }, { 'x-session-id': sid });
          if (r.status === 200) ackedSticky.set(sid, { clientId: String(r.json.client_id), at: Date.now() });
        }),
      ),
      loop(async (i) => {
        const sid = `proxy-${i}`;
        const r = await get(base, `/app/page?i=${i}`, { 'x-session-id': sid, 'x-tier': 'tiny' });
        if (r.status === 200) ackedProxySessions.set(sid, { clientId: String(r.headers['x-vantage-backend']), at: Date.now() });
      }),
    ];

    await waitFor(() => ackedRegistrations.length >= 50 && ackedSticky.size >= 50 && ackedProxySessions.size >= 20, 'load to be acknowledged', 30_000, 50);
    // Keep the load going past the write-behind window, so both old and fresh assignments exist at the kill.
    const firstPhaseEnd = Date.now();
    await waitFor(() => Date.now() - firstPhaseEnd > WRITE_BEHIND_MS, 'the write-behind window to pass', 10_000, 50);
    const killAt = Date.now();
    server.child.kill('SIGKILL');
    await waitFor(() => server!.child.exitCode !== null || server!.child.signalCode !== null, 'the server to die');
    stop = true;
    await Promise.all(workers);
    const killedAt = Date.now();

    // Restart on the same port (agents keep their server_url).
    cfg.port = port;
    server = await startServerProcess(tmp.dir, cfg, 'fault-restart');
    expect(server.port).toBe(port);

    const clients = (await get(base, '/clients')).json as Array<{ client_id: string; last_seen: string }>;
    const listed = new Set(clients.map((c) => c.client_id));
    const lostRegistrations = ackedRegistrations.filter((id) => !listed.has(id));
    expect(lostRegistrations, `${lostRegistrations.length} of ${ackedRegistrations.length} acknowledged registrations lost`).toEqual([]);

    // Agents recover without manual action: each reports after the restart.
    await waitFor(
      async () => {
        const list = (await get(base, '/clients')).json as Array<{ client_id: string; last_seen: string }>;
        return agentIds.every((id) => {
          const c = list.find((x) => x.client_id === id);
          return c !== undefined && Date.parse(c.last_seen) > killedAt;
        });
      },
      'every agent to report to the restarted server',
      90_000,
      250,
    );
    for (const a of agents) expect(a.exitCode, 'agent process still running').toBeNull();

    // Every acknowledged sticky assignment routes to the same backend as before: new assignments are committed
    // before /route answers (group commit) and before a proxied request is forwarded; the breakdown by age shows
    // that assignments younger than the write-behind window are covered too.
    const moved: string[] = [];
    let old = 0;
    let fresh = 0;
    let freshLost = 0;
    const check = (sid: string, want: { clientId: string; at: number }, got: string, status: number, label: string) => {
      const kept = status === 200 && got === want.clientId;
      if (!kept) moved.push(`${label} ${sid} (acknowledged ${killAt - want.at} ms before the kill): ${want.clientId} → ${status} ${got}`);
      if (want.at < killAt - WRITE_BEHIND_MS) old++;
      else {
        fresh++;
        if (!kept) freshLost++;
      }
    };
    for (const [sid, want] of ackedSticky) {
      const r = await post(base, '/route', { tier: 'tiny' }, { 'x-session-id': sid });
      check(sid, want, String(r.json.client_id), r.status, 'route');
    }
    for (const [sid, want] of ackedProxySessions) {
      const r = await get(base, `/app/again`, { 'x-session-id': sid, 'x-tier': 'tiny' });
      check(sid, want, String(r.headers['x-vantage-backend']), r.status, 'proxy');
    }
    process.stdout.write(
      `fault test: ${ackedRegistrations.length} registrations (0 lost), ${ackedSticky.size} sticky routes and ${ackedProxySessions.size} proxied sessions acknowledged before SIGKILL; ` +
        `${old} sticky assignments older than ${WRITE_BEHIND_MS} ms and ${fresh} younger (write-behind window): ${moved.length} lost (${freshLost} of the younger); ${errors} requests failed while the server was down\n`,
    );
    expect(old).toBeGreaterThan(0);
    expect(fresh).toBeGreaterThan(0);
    expect(moved, `${moved.length} of ${old + fresh} acknowledged sticky assignments were not kept`).toEqual([]);
  });
});
