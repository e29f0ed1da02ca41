/**
 * The backend probes: keeps one system-owned monitor per (registered backend, region with active
 * workers) in the monitoring store (plan.ts says which), and feeds each stored probe result's round
 * trip into the routing engine's latency matrix. Region locations for the engine come from
 * `region_locations`, else the centroid of the locations of the backends whose hostnames match the
 * region's active workers (an agent runs its worker and reports its backend under one hostname).
 *
 * Reconciling runs every `region_probe_interval_seconds` (on the leader, which owns the monitors);
 * recording runs on every stored result (ingest's stored-result listener).
 */
import type { Logger } from 'pino';
import type { MonitorRecord, MonitoringStore } from '../../store/monitoring.js';
import type { IngestedJob } from '../control/ingest.js';
import type { ResultInput } from '../domain/result.js';
import { BACKEND_PROBE_OWNER } from '../domain/system-monitors.js';
import { newJitterSeed, newMonitorId } from '../../platform/ids.js';
import { periodic, type Periodic } from '../../platform/periodic.js';
import type { Timers } from '../../platform/timers.js';
import { regionLocations, type LatLon } from '../../lb/routing/regions.js';
import { parseProbeId, plannedProbes, probeChanged, probeId, probeKey, probeRttMs, type ProbeConfig, type ProbedBackend } from './plan.js';

/** A registered backend, as the engine lists it. */
export interface ProbeTarget extends ProbedBackend {
  hostname: string;
  lat: number | null;
  lon: number | null;
}

/** Where measurements and region locations go (the routing engine's `latency`). */
export interface RttSink {
  recordRtt(region: string, clientId: string, rttMs: number): boolean;
  setRegionLocations(locations: ReadonlyMap<string, LatLon>): void;
}

export interface BackendProbesDeps {
  store: MonitoringStore;
  backends: () => readonly ProbeTarget[];
  sink: RttSink;
  config: ProbeConfig & { region_locations: Record<string, LatLon> };
  now: () => number;
  /** Creating and removing monitors only on the leader; every node records results. */
  isLeader: () => boolean;
  /** Told after monitors were created, changed or removed (runs a scheduler pass). */
  onMonitorsChanged?: () => void;
  logger?: Logger;
}

const PAGE = 1000;

export interface ReconcileOutcome {
  created: number;
  updated: number;
  removed: number;
  regions: string[];
}

export class BackendProbes {
  private loop: Periodic | null = null;

  constructor(private readonly d: BackendProbesDeps) {}

  /** Every probe monitor the store holds (not deleted), by probe key. */
  async listProbes(): Promise<Map<string, MonitorRecord>> {
    const out = new Map<string, MonitorRecord>();
    let after: string | undefined;
    for (;;) {
      const rows = await this.d.store.listMonitors({ includeDeleted: false, limit: PAGE, after });
      for (const m of rows) {
        const p = m.owner === BACKEND_PROBE_OWNER ? parseProbeId(m.id) : null;
        if (p !== null) out.set(probeKey(p.region, p.clientId), m);
      }
      if (rows.length < PAGE) return out;
      after = rows[rows.length - 1]!.id;
    }
  }

  /** Brings the probe monitors and the region locations in line with the fleet and the workers. */
  async reconcile(): Promise<ReconcileOutcome> {
    const workers = (await this.d.store.listWorkers()).filter((w) => w.status === 'active');
    // 'global' workers also take other regions' leftovers, so what they measure is nobody's region.
    const regions = [...new Set(workers.map((w) => w.region))].filter((r) => r !== 'global').sort();
    const backends = this.d.backends();
    this.locateRegions(workers, backends);
    const outcome: ReconcileOutcome = { created: 0, updated: 0, removed: 0, regions };
    if (!this.d.isLeader()) return outcome;

    const want = plannedProbes(backends, regions, this.d.config);
    const have = await this.listProbes();
    const now = this.d.now();
    const meta = { actor: BACKEND_PROBE_OWNER, now };
    for (const [key, { region, clientId, spec }] of want) {
      const m = have.get(key);
      if (m === undefined) {
        const id = probeId(region, clientId, newMonitorId());
        await this.d.store.createMonitor(spec, { ...meta, id, jitterSeed: newJitterSeed() });
        outcome.created++;
      } else if (probeChanged(m, spec)) {
        await this.d.store.updateMonitor(m.id, spec, meta);
        outcome.updated++;
      }
    }
    for (const [key, m] of have) {
      if (want.has(key)) continue;
      await this.d.store.deleteMonitor(m.id, meta);
      outcome.removed++;
    }
    if (outcome.created + outcome.updated + outcome.removed > 0) {
      this.d.logger?.info(outcome, 'backend probes reconciled');
      this.d.onMonitorsChanged?.();
    }
    return outcome;
  }

  private locateRegions(workers: readonly { region: string; hostname: string }[], backends: readonly ProbeTarget[]): void {
    const byHost = new Map<string, LatLon>();
    for (const b of backends) if (b.lat !== null && b.lon !== null) byHost.set(b.hostname, { lat: b.lat, lon: b.lon });
    const points = new Map<string, LatLon[]>();
    for (const w of workers) {
      const loc = byHost.get(w.hostname);
      if (loc === undefined || w.region === 'global') continue;
      const list = points.get(w.region) ?? [];
      list.push(loc);
      points.set(w.region, list);
    }
    this.d.sink.setRegionLocations(regionLocations(this.d.config.region_locations, points));
  }

  /** The stored-result listener: a probe's round trip goes into the matrix. */
  readonly onStored = (job: IngestedJob, result: ResultInput): void => {
    const p = parseProbeId(job.monitorId);
    if (p === null) return;
    const rtt = probeRttMs(this.d.config.health_check_type, result);
    if (rtt !== null) this.d.sink.recordRtt(job.region, p.clientId, rtt);
  };

  start(timers?: Timers): void {
    this.loop = periodic(() => this.reconcile().then(() => undefined), this.d.config.region_probe_interval_seconds * 1000, {
      timers,
      runAtStart: true,
      onError: (err) => this.d.logger?.error({ err }, 'backend probe reconcile failed'),
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
  }
}
