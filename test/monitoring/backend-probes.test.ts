/**
 * The backend probes against a real SQLite store: one system-owned monitor per (backend, region with
 * active workers), following the fleet; probe results feed the latency matrix through ingest's
 * stored-result listener.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { BackendProbes, type ProbeTarget } from '../../src/monitoring/probes/backend-probes.js';
import { parseProbeId, plannedProbes, probeRttMs, PROBE_REGION_HEADER } from '../../src/monitoring/probes/plan.js';
import { IngestQueue } from '../../src/monitoring/control/ingest.js';
import { BACKEND_PROBE_OWNER } from '../../src/monitoring/domain/system-monitors.js';
import { nullResult } from '../../src/monitoring/domain/result.js';
import type { LatLon } from '../../src/lb/routing/regions.js';
import { tempDir } from '../server/helpers.js';

const NOW = 1_700_000_000_000;
const CFG = { health_check_type: 'tcp' as const, health_check_path: '/health', health_check_timeout_seconds: 2, region_probe_interval_seconds: 30, region_locations: {} };

class Sink {
  samples: [string, string, number][] = [];
  locations = new Map<string, LatLon>();
  recordRtt(region: string, clientId: string, rttMs: number): boolean {
    this.samples.push([region, clientId, rttMs]);
    return true;
  }
  setRegionLocations(l: ReadonlyMap<string, LatLon>): void {
    this.locations = new Map(l);
  }
}

const backend = (id: string, lat: number | null = null, lon: number | null = null): ProbeTarget => ({
  clientId: id,
  endpoint: `http://10.0.0.${id.length}:8000`,
  hostname: `host-${id}`,
  lat,
  lon,
});

describe('backend probes (real SQLite store)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: OpenedStore;
  let fleet: ProbeTarget[];
  let sink: Sink;
  let changed: number;
  let probes: BackendProbes;
  beforeEach(() => {
    tmp = tempDir('vantage-probes-');
    store = openSqliteStore(`${tmp.dir}/p.db`);
    fleet = [];
    sink = new Sink();
    changed = 0;
    probes = new BackendProbes({
      store: store.monitoring,
      backends: () => fleet,
      sink,
      config: CFG,
      now: () => NOW,
      isLeader: () => true,
      onMonitorsChanged: () => changed++,
    });
  });
  afterEach(() => {
    store.close();
    tmp.cleanup();
  });

  const worker = (id: string, region: string, hostname = id) =>
    store.monitoring.upsertWorker({ id, hostname, region, version: 't', capabilities: ['tcp', 'http'] }, NOW);

  it('keeps one system monitor per (backend, region with workers), created and removed with the backend', async () => {
    fleet = [backend('a'), backend('bb')];
    expect(await probes.reconcile()).toMatchObject({ created: 0, regions: [] });
    await worker('w1', 'eu');
    await worker('w2', 'us');
    await worker('w3', 'global');
    expect(await probes.reconcile()).toMatchObject({ created: 4, updated: 0, removed: 0, regions: ['eu', 'us'] });
    expect(changed).toBe(1);
    const all = await store.monitoring.listMonitors({ includeDeleted: false, limit: 100 });
    expect(all).toHaveLength(4);
    for (const m of all) {
      expect(m.owner).toBe(BACKEND_PROBE_OWNER);
      expect(m.type).toBe('tcp');
      expect(m.regions).toHaveLength(1);
      expect(m.interval_ms).toBe(30_000);
      expect(parseProbeId(m.id)).toEqual({ region: m.regions[0], clientId: expect.stringMatching(/^(a|bb)$/) });
    }
    expect(all.find((m) => parseProbeId(m.id)!.clientId === 'a')!.url).toBe('tcp://10.0.0.1:8000');
    // Nothing changed: nothing written.
    expect(await probes.reconcile()).toMatchObject({ created: 0, updated: 0, removed: 0 });
    // A backend leaves: its probes go; one comes back: it gets new ones.
    fleet = [backend('a')];
    expect(await probes.reconcile()).toMatchObject({ removed: 2 });
    expect((await store.monitoring.listMonitors({ includeDeleted: false, limit: 100 })).map((m) => parseProbeId(m.id)!.clientId)).toEqual(['a', 'a']);
    fleet = [backend('a'), backend('bb')];
    expect(await probes.reconcile()).toMatchObject({ created: 2 });
    // A region whose workers went inactive is no longer probed from.
    await store.monitoring.markInactiveWorkers(NOW + 1);
    await worker('w1', 'eu');
    expect(await probes.reconcile()).toMatchObject({ removed: 2, regions: ['eu'] });
  });

  it('follows health_check_type: http probes GET health_check_path and name their region in a header', async () => {
    await worker('w1', 'eu');
    fleet = [backend('a')];
    const plan = [...plannedProbes(fleet, ['eu'], { ...CFG, health_check_type: 'http' }).values()];
    expect(plan).toHaveLength(1);
    expect(plan[0]!.spec).toMatchObject({ type: 'http', url: 'http://10.0.0.1:8000/health', headers: { [PROBE_REGION_HEADER]: 'eu' }, regions: ['eu'] });
    await probes.reconcile();
    const http = new BackendProbes({ store: store.monitoring, backends: () => fleet, sink, config: { ...CFG, health_check_type: 'http' }, now: () => NOW, isLeader: () => true });
    expect(await http.reconcile()).toMatchObject({ created: 0, updated: 1 });
  });

  it('creates nothing on a follower, but still locates regions', async () => {
    const follower = new BackendProbes({ store: store.monitoring, backends: () => fleet, sink, config: CFG, now: () => NOW, isLeader: () => false });
    await worker('w1', 'eu', 'host-a');
    await worker('w2', 'eu', 'host-b');
    fleet = [backend('a', 10, 0), { ...backend('b', 20, 0), hostname: 'host-b' }];
    expect(await follower.reconcile()).toMatchObject({ created: 0 });
    expect(await store.monitoring.listMonitors({ includeDeleted: false, limit: 10 })).toEqual([]);
    // The region sits at the centroid of its workers' backends.
    expect(sink.locations.get('eu')!.lat).toBeCloseTo(15, 1);
  });

  it('feeds the round trip of stored probe results (only) into the matrix', async () => {
    await worker('w1', 'eu');
    fleet = [backend('a')];
    await probes.reconcile();
    const [probe] = await store.monitoring.listMonitors({ includeDeleted: false, limit: 10 });
    const ingest = new IngestQueue({ store: store.monitoring, now: () => NOW });
    ingest.onStored(probes.onStored);
    // A real job of the probe, leased by the worker, then its result ingested.
    await store.monitoring.scheduleDue(NOW, 5000, () => ({ runs: [NOW], nextDueAt: NOW + 30_000, catchUp: false }), () => 'run-1');
    const [job] = await store.monitoring.leaseJobs({ workerId: 'w1', region: 'eu', count: 1, now: NOW, leadMs: 5000, leaseMs: 45_000 });
    expect(job!.monitor_id).toBe(probe!.id);
    const result = { ...nullResult('run-1', NOW), status: 'up' as const, connect_ms: 12.5, total_ms: 13 };
    expect(await ingest.submit('w1', result, { monitorId: job!.monitor_id, region: job!.region })).toBe('stored');
    expect(sink.samples).toEqual([['eu', 'a', 12.5]]);
    // A duplicate is not stored again, so not counted again; a user monitor's result is not a probe.
    expect(await ingest.submit('w1', result, { monitorId: job!.monitor_id, region: 'eu' })).toBe('duplicate');
    probes.onStored({ monitorId: 'mon_user', region: 'eu' }, result);
    expect(sink.samples).toHaveLength(1);
    await ingest.close();
  });

  it('takes the TCP connect time, or the HTTP time to first byte; nothing from a down result', () => {
    const r = { status: 'up', connect_ms: 1, ttfb_ms: 7 };
    expect(probeRttMs('tcp', r)).toBe(1);
    expect(probeRttMs('http', r)).toBe(7);
    expect(probeRttMs('http', { ...r, ttfb_ms: null })).toBe(1);
    expect(probeRttMs('tcp', { ...r, status: 'down' })).toBeNull();
  });
});
