/** `vantage monitor apply` against a real MonitorsService on loopback and a real SQLite file; server.yml `monitors:`. */
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { startMonitoringPlane, type MonitoringHandle } from '../../src/app/monitoring.js';
import { runMonitorApply } from '../../src/cli/monitor-apply.js';
import { monitorsClient } from '../../src/cli/monitor.js';
import { ConfigError, loadServerConfig } from '../../src/config/load.js';
import { tempStore, type TempStore } from './helpers.js';

let t: TempStore;
let mon: MonitoringHandle;
let server: http.Server;
let base: string;

async function start(config: Record<string, unknown> = {}): Promise<void> {
  mon = await startMonitoringPlane({
    config: { host: '127.0.0.1', worker_port: 0, server_key: 'key-1', ...config },
    logger: pino({ level: 'silent' }),
    store: t.store,
    leader: t.leader,
    registry: new Registry(),
  });
  server = http.createServer((req, res) => {
    if (!mon.webHandler(req, res)) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop(): Promise<void> {
  await new Promise<void>((r) => server.close(() => r()));
  await mon.stop();
}

beforeEach(() => {
  t = tempStore();
});
afterEach(async () => {
  await stop();
  t.close();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

async function apply(yaml: string, flags: { dryRun?: boolean; prune?: boolean } = {}) {
  const file = join(t.dir, `monitors-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  const c = capture();
  const code = await runMonitorApply({ server: base, apiKey: 'key-1', file, ...flags }, c.io);
  return { code, out: c.out.join('\n'), err: c.err.join('\n') };
}

const names = async () => (await monitorsClient({ server: base, apiKey: 'key-1' }).listMonitors({ limit: 1000 })).monitors.map((m) => m.name).sort();

const THREE = `
- name: api
  url: http://127.0.0.1:9000/health
  interval: 30s
  assertions: ['status == 200']
- name: db
  url: tcp://127.0.0.1:5432
  type: tcp
- name: web
  url: https://example.test/
  timeout: 5s
  headers: { Accept: text/html }
`;

describe('vantage monitor apply', () => {
  it('creates, then a second apply of the same file changes nothing; a changed entry is an update naming its fields', async () => {
    await start();
    const first = await apply(THREE);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/^plan: 3 to create, 0 to update, 0 to delete, 0 unchanged \(monitors are matched by name\)/);
    expect(first.out).toContain('+ api');
    expect(first.out).toContain('applied: 3 created, 0 updated, 0 deleted');
    expect(await names()).toEqual(['api', 'db', 'web']);

    const second = await apply(THREE);
    expect(second.out).toMatch(/^plan: 0 to create, 0 to update, 0 to delete, 3 unchanged/);
    expect(second.out).toContain('no changes: the server already matches the file');

    const changed = await apply(THREE.replace('interval: 30s', 'interval: 10s').replace("['status == 200']", "['status == 204']"));
    expect(changed.out).toMatch(/^plan: 0 to create, 1 to update, 0 to delete, 2 unchanged/);
    expect(changed.out).toContain('~ api (interval_ms, assertions)');
    const api = (await monitorsClient({ server: base, apiKey: 'key-1' }).listMonitors({})).monitors.find((m) => m.name === 'api')!;
    expect(api).toMatchObject({ intervalMs: 10_000n, assertions: ['status == 204'] });
  });

  it('--dry-run prints the plan and changes nothing; --prune deletes the monitors the file omits', async () => {
    await start();
    await apply(THREE);
    const only = '{ monitors: [ { name: api, url: "http://127.0.0.1:9000/health", interval: 30s, assertions: ["status == 200"] }, { name: new, url: "dns://example.test" , type: dns} ] }';

    const dry = await apply(only, { dryRun: true, prune: true });
    expect(dry.out).toMatch(/^plan: 1 to create, 0 to update, 2 to delete, 1 unchanged/);
    expect(dry.out).toContain('dry run: nothing changed');
    expect(await names()).toEqual(['api', 'db', 'web']);

    const kept = await apply(only, { dryRun: true });
    expect(kept.out).toContain('2 monitor(s) on the server are not in the file and are kept (--prune deletes them)');

    const pruned = await apply(only, { prune: true });
    expect(pruned.out).toMatch(/- db \(mon_/);
    expect(pruned.out).toContain('applied: 1 created, 0 updated, 2 deleted');
    expect(await names()).toEqual(['api', 'new']);
    expect((await apply(only, { prune: true })).out).toContain('no changes');
  });

  it('validates every entry as monitor add does, naming index, name and field; nothing is sent', async () => {
    await start();
    const bad = await apply(`
- name: ok
  url: http://127.0.0.1:9/
- name: slow
  url: http://127.0.0.1:9/
  interval: 0.5s
- url: http://127.0.0.1:9/
- name: ok
  url: http://127.0.0.1:9/
- name: typo
  url: http://127.0.0.1:9/
  intervall: 5s
`);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('monitors[2]: name: expected a name (apply identifies monitors by name)');
    expect(bad.err).toContain('monitors[4] (typo): unknown key(s) intervall');
    const semantic = await apply(`
- name: ok
  url: http://127.0.0.1:9/
- name: slow
  url: http://127.0.0.1:9/
  interval: 0.5s
- name: ok
  url: http://127.0.0.1:9/
- name: bad-assert
  url: http://127.0.0.1:9/
  assertions: ['status =']
`);
    expect(semantic.code).toBe(2);
    expect(semantic.err).toMatch(/monitors\[1\] \(slow\): interval_ms: must be between 1000 and 86400000 \(1s to 1d\), got 500/);
    expect(semantic.err).toMatch(/monitors\[2\] \(ok\): name: "ok" is also the name of monitors\[0\]/);
    expect(semantic.err).toMatch(/monitors\[3\] \(bad-assert\): .*status =/);
    expect(semantic.err).toContain('nothing was sent to the server');
    expect(await names()).toEqual([]);
  });

  it('the ApplyMonitors API refuses an invalid list as a whole (InvalidArgument naming each entry)', async () => {
    await start();
    const c = monitorsClient({ server: base, apiKey: 'key-1' });
    await expect(c.applyMonitors({ monitors: [{ name: 'a', url: 'http://127.0.0.1:9/' }, { url: 'http://127.0.0.1:9/' }] })).rejects.toThrow(
      /1 invalid monitor\(s\), nothing applied:\nmonitors\[1\]: name: required/,
    );
    expect(await names()).toEqual([]);
  });
});

describe('server.yml monitors:', () => {
  it('is validated when loading the config, naming index, name and field', () => {
    const file = join(t.dir, 'server.yml');
    writeFileSync(file, 'monitors:\n  - name: a\n    url: http://127.0.0.1:9/\n    interval: soon\n  - name: b\n    url: http://127.0.0.1:9/\n    assertions: ["nope =="]\n  - name: c\n    url: x\n    colour: red\n');
    let issues: string[] = [];
    try {
      loadServerConfig({ file });
    } catch (err) {
      if (err instanceof ConfigError) issues = err.issues;
    }
    expect(issues.join('\n')).toMatch(/server\.yml: monitors\[0\]\.interval: expected a duration such as "30s", "5m" or "500ms", got "soon"/);
    expect(issues.join('\n')).toMatch(/server\.yml: monitors\[2\]: unknown key "colour"/);
    // Shape errors come first; once the shapes are right, each entry is validated as monitor add does.
    writeFileSync(file, 'monitors:\n  - name: b\n    url: http://127.0.0.1:9/\n    assertions: ["nope =="]\n');
    try {
      loadServerConfig({ file });
      issues = [];
    } catch (err) {
      if (err instanceof ConfigError) issues = err.issues;
    }
    expect(issues.join('\n')).toMatch(/server\.yml: monitors\[0\]: expected a valid monitor "b" \(.*nope/);
  });

  it('is applied at start by name: created once, updated on a changed entry, never pruned', async () => {
    const file = join(t.dir, 'server.yml');
    writeFileSync(file, 'monitors:\n  - name: a\n    url: http://127.0.0.1:9/\n    interval: 30s\n  - name: b\n    url: tcp://127.0.0.1:9\n    type: tcp\n');
    await start({ monitors: loadServerConfig({ file }).config.monitors });
    const c = () => monitorsClient({ server: base, apiKey: 'key-1' });
    const first = (await c().listMonitors({})).monitors;
    expect(first.map((m) => m.name).sort()).toEqual(['a', 'b']);
    await c().createMonitor({ monitor: { name: 'by-api', url: 'http://127.0.0.1:9/' } });
    await stop();

    writeFileSync(file, 'monitors:\n  - name: a\n    url: http://127.0.0.1:9/\n    interval: 10s\n');
    await start({ monitors: loadServerConfig({ file }).config.monitors });
    const second = (await c().listMonitors({})).monitors;
    expect(second.map((m) => m.name).sort()).toEqual(['a', 'b', 'by-api']);
    const a = second.find((m) => m.name === 'a')!;
    expect(a.id).toBe(first.find((m) => m.name === 'a')!.id);
    expect(a.intervalMs).toBe(10_000n);
    const audit = await c().listAuditEvents({ entityId: a.id });
    expect(audit.events.map((e) => [e.action, e.actor])).toEqual(expect.arrayContaining([expect.arrayContaining(['server.yml'])]));
  });
});
