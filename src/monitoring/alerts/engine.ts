/**
 * The alert engine: feeds every stored result (ingest's onStored) through the state machine, and writes each
 * state change — monitor status, incident, one outbox row per channel — in one store transaction.
 *
 * Where the per-region run counts live (`regionCounts`, chosen by `defaultRegionCounts` from the store):
 * - `store` (PostgreSQL replicas): each run is counted in the store (`recordRegionRuns`, one row per monitor and
 *   region, locked and stepped; the runs of one ingest batch in one transaction) and the quorum is judged on every
 *   region's stored counts, so a multi-region monitor whose regions stream to different replicas is judged on all
 *   of them by whichever replica ingested the deciding run.
 * - `memory` (SQLite: one server per file, so this process ingests every region): the counts are this engine's
 *   own, stepped by the same pure `stepRegion` (`applyRun`); nothing is written per run.
 * Either way the status is stored and compared-and-set, so two replicas that see the same change write it once.
 * Work of one monitor runs in order (one chain per monitor).
 *
 * The catalogue (monitors, their resolved rules and channels) is reloaded by `refresh()`: at start, on a timer
 * and after the API changes a rule or channel.
 */
import type { Logger } from 'pino';
import type { AlertsStore, MonitorAlertStatus, SharedRegionState, TransitionKind } from '../../store/alerts.js';
import type { MonitoringStore, ResultInput } from '../../store/monitoring.js';
import type { IngestedJob } from '../control/ingest.js';
import { NO_MAINTENANCE, type MaintenanceCalendar } from './contract.js';
import { parseMonitorOverride, resolveRule, RuleOverrideSchema, type AlertGroup, type AlertRule, type RuleDefaults, type RuleOverride } from './rules.js';
import { applyRun, applySharedRun, initialState, stepRegion, tick, type AlertEvent, type EvalContext, type MonitorAlertState, type RunInput } from './state-machine.js';

export interface MonitorEntry {
  id: string;
  name: string;
  regions: string[];
  rule: AlertRule;
  /** dependsOn resolved to monitor ids. */
  parents: string[];
  channelIds: string[];
}

/** Where the engine keeps the per-region run counts: in this process, or in the store (shared by replicas). */
export type RegionCountsMode = 'memory' | 'store';

/**
 * The one place the default is chosen: counts are shared through the store only when other server processes
 * write to it (PostgreSQL); a SQLite file has one server (the server lock), which sees every region's runs.
 */
export function defaultRegionCounts(store: Pick<AlertsStore, 'sharedByReplicas'>): RegionCountsMode {
  return store.sharedByReplicas ? 'store' : 'memory';
}

export interface EngineOptions {
  alerts: AlertsStore;
  /** Default: defaultRegionCounts(alerts). `store` on SQLite only for tests that open two stores on one file. */
  regionCounts?: RegionCountsMode;
  monitoring: MonitoringStore;
  now: () => number;
  defaults: RuleDefaults;
  groups?: readonly AlertGroup[];
  /** server.yml alert_rules: by monitor name or id. */
  configRules?: readonly (RuleOverride & { monitor: string })[];
  maintenance?: MaintenanceCalendar;
  logger?: Logger;
  /** Called after a transition wrote outbox rows (the sender wakes up). */
  onOutbox?: () => void;
}

const EXPECTED: Record<TransitionKind, MonitorAlertStatus | null> = { down: null, degraded: 'up', resolved: 'down', recovered: 'degraded', reminder: 'down' };
const NEXT: Record<TransitionKind, MonitorAlertStatus> = { down: 'down', degraded: 'degraded', resolved: 'up', recovered: 'up', reminder: 'down' };

export class AlertEngine {
  private monitors = new Map<string, MonitorEntry>();
  private readonly states = new Map<string, MonitorAlertState>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly pending: { monitorId: string; run: RunInput }[] = [];
  private draining: Promise<void> | null = null;
  private readonly maintenance: MaintenanceCalendar;
  /** `memory` mode: the time of the last counted run per monitor, then region (older or repeated runs are not counted). */
  private readonly lastAt = new Map<string, Map<string, number>>();
  readonly regionCounts: RegionCountsMode;
  /** Transitions written (for tests and metrics). */
  transitions = 0;

  constructor(private readonly o: EngineOptions) {
    this.maintenance = o.maintenance ?? NO_MAINTENANCE;
    this.regionCounts = o.regionCounts ?? defaultRegionCounts(o.alerts);
  }

  /** Loads stored statuses (first call only) and rebuilds the catalogue. */
  async start(): Promise<void> {
    const stored = await this.o.alerts.loadStatuses();
    await this.refresh();
    for (const [id, s] of stored) {
      const m = this.monitors.get(id);
      const st = initialState();
      st.status = s.status;
      st.since = this.o.now();
      st.lastNotifiedAt = this.o.now();
      // A stored down state counts every region as failing until it passes success_threshold runs again.
      if (s.status === 'down') for (const r of m?.regions ?? ['global']) st.regions[r] = { fails: 0, oks: 0, failing: true };
      this.states.set(id, st);
    }
  }

  async refresh(): Promise<void> {
    const [records, channels, apiRules] = await Promise.all([this.o.monitoring.listMonitors({ includeDeleted: false, limit: 100_000 }), this.o.alerts.listChannels(), this.o.alerts.listRules()]);
    const byName = new Map(records.map((m) => [m.name, m.id]));
    const channelByName = new Map(channels.map((c) => [c.name, c]));
    const defaults = channels.filter((c) => c.isDefault && c.enabled).map((c) => c.id);
    const next = new Map<string, MonitorEntry>();
    for (const m of records) {
      const layers: RuleOverride[] = [];
      for (const r of this.o.configRules ?? []) if (r.monitor === m.id || r.monitor === m.name) layers.push(r);
      const fromOptions = parseMonitorOverride(m.options);
      if (fromOptions.error) this.o.logger?.warn({ monitorId: m.id, error: fromOptions.error }, 'alert rule ignored');
      if (fromOptions.override) layers.push(fromOptions.override);
      const api = apiRules.get(m.id);
      if (api) {
        const p = RuleOverrideSchema.safeParse(api);
        if (p.success) layers.push(p.data);
      }
      const merged = Object.assign({}, ...layers.map((l) => Object.fromEntries(Object.entries(l).filter(([k, v]) => k !== 'monitor' && v !== undefined)))) as RuleOverride;
      const rule = resolveRule(this.o.defaults, this.o.groups ?? [], layers.length > 0 ? merged : undefined);
      const channelIds = rule.channels.length > 0 ? rule.channels.map((n) => channelByName.get(n)).filter((c) => c !== undefined && c.enabled).map((c) => c!.id) : defaults;
      next.set(m.id, { id: m.id, name: m.name, regions: m.regions.length > 0 ? m.regions : ['global'], rule, parents: rule.dependsOn.map((d) => byName.get(d) ?? d), channelIds });
    }
    this.monitors = next;
  }

  entry(monitorId: string): MonitorEntry | undefined {
    return this.monitors.get(monitorId);
  }

  status(monitorId: string): MonitorAlertStatus {
    return this.states.get(monitorId)?.status ?? 'up';
  }

  private ctx(m: MonitorEntry, at: number): EvalContext {
    return {
      regions: m.regions,
      inMaintenance: this.maintenance.activeFor(m.id, at) !== null,
      parentDown: m.parents.some((p) => this.states.get(p)?.status === 'down'),
    };
  }

  /**
   * The ingest listener: synchronous and cheap. Runs are queued and counted behind it in batches — every run
   * ingest stored in one batch goes to the store in one transaction (`recordRegionRuns`) — then judged in order;
   * state changes are written behind that, in the monitor's chain.
   */
  readonly onStored = (job: IngestedJob, result: ResultInput): void => {
    const m = this.monitors.get(job.monitorId);
    if (m === undefined) return;
    const run: RunInput = { region: job.region, status: result.status, latencyMs: result.total_ms, at: result.event_at, error: result.error };
    if (this.regionCounts === 'memory' && this.pending.length === 0 && this.draining === null) {
      // Counts in memory need no round trip to batch for: the run is judged here, in order, and any state
      // change is written behind in the monitor's chain (as from a batch).
      try {
        this.judgeLocal(m, run);
      } catch (err) {
        this.o.logger?.error({ err }, 'alert evaluation failed');
      }
      return;
    }
    this.pending.push({ monitorId: job.monitorId, run });
    this.drain();
  };

  private drain(): void {
    if (this.draining) return;
    this.draining = (async () => {
      // The rest of this ingest batch's onStored calls come in the same tick: let them land first.
      await Promise.resolve();
      while (this.pending.length > 0) await this.judgeBatch(this.pending.splice(0, 1000));
    })()
      .catch((err: unknown) => this.o.logger?.error({ err }, 'alert evaluation failed'))
      .finally(() => {
        this.draining = null;
        if (this.pending.length > 0) this.drain();
      });
  }

  private async judgeBatch(batch: { monitorId: string; run: RunInput }[]): Promise<void> {
    const work = batch.flatMap(({ monitorId, run }) => {
      const m = this.monitors.get(monitorId);
      return m ? [{ m, run }] : [];
    });
    if (this.regionCounts === 'memory') {
      for (const { m, run } of work) this.judgeLocal(m, run);
      return;
    }
    const shared = await this.o.alerts.recordRegionRuns(
      work.map(({ m, run }) => ({
        monitorId: m.id,
        region: run.region,
        at: run.at,
        ...(run.status === 'up' && this.locallyPassing(m.id) ? { steadyUp: { successThreshold: m.rule.successThreshold } } : {}),
        step: (prev) => {
          const next = stepRegion(prev, m.rule, run.status);
          next.firstFailureAt = run.status === 'down' ? (prev.firstFailureAt ?? run.at) : next.fails === 0 && !next.failing ? null : prev.firstFailureAt;
          return next;
        },
      })),
    );
    work.forEach(({ m, run }, i) => this.judge(m, run, shared[i]!));
  }

  /**
   * Up (or degraded) with no region failing as far as this replica knows: a passing run of a region that still
   * passes in the store cannot change which regions fail, so it is judged without reading the other regions.
   * (A change of the failing set comes from a failing run, judged with every region by the replica that ingested it.)
   */
  private locallyPassing(monitorId: string): boolean {
    const st = this.states.get(monitorId);
    if (!st) return true;
    if (st.status === 'down') return false;
    for (const r of Object.values(st.regions)) if (r.failing || r.fails > 0) return false;
    return true;
  }

  /** Judges one run on this engine's own region counts (`memory`): the same step as the store's, no I/O. */
  private judgeLocal(m: MonitorEntry, run: RunInput): void {
    const prev = this.states.get(m.id) ?? initialState();
    let byRegion = this.lastAt.get(m.id);
    if (byRegion === undefined) this.lastAt.set(m.id, (byRegion = new Map()));
    const last = byRegion.get(run.region);
    const counted = last === undefined || run.at > last;
    if (counted) byRegion.set(run.region, run.at);
    // The steady case, in place: up, no latency rule, no region failing or counting failures, and a pass of a
    // known region. stepRegion would only add one pass; settle could fire nothing (no failing region, not
    // degraded), so the state is not copied.
    const rc = prev.regions[run.region];
    if (counted && run.status === 'up' && rc !== undefined && prev.status === 'up' && m.rule.regionQuorum !== 0 && m.rule.degradedLatencyMs === null && prev.samples.length === 0 && noRegionFailing(prev)) {
      rc.oks += 1;
      return;
    }
    // Like the store, a run not newer than the region's last counted one leaves the counts as they are.
    const out = counted ? applyRun(prev, m.rule, run, this.ctx(m, run.at)) : applySharedRun(prev, m.rule, run, { regions: prev.regions, firstFailureAt: null }, this.ctx(m, run.at));
    this.states.set(m.id, out.state);
    if (out.events.length > 0) this.enqueue(m.id, () => this.write(m, prev.status, out.events, out.state));
  }

  /** Judges one run on the shared region counts (synchronous: the state is this replica's, writes go behind). */
  private judge(m: MonitorEntry, run: RunInput, shared: SharedRegionState): void {
    let prev = this.states.get(m.id) ?? initialState();
    if (shared.steady) {
      // The region passes as before: this replica's view of the regions stands, this one's pass counted.
      const rc = prev.regions[run.region] ?? { fails: 0, oks: 0, failing: false };
      const out = applySharedRun(prev, m.rule, run, { regions: { ...prev.regions, [run.region]: { ...rc, fails: 0, oks: rc.oks + 1, failing: false } }, firstFailureAt: null }, this.ctx(m, run.at));
      this.states.set(m.id, out.state);
      if (out.events.length > 0) this.enqueue(m.id, () => this.write(m, prev.status, out.events, out.state));
      return;
    }
    if (shared.status !== prev.status) prev = adoptStoredStatus(prev, shared.status, run.at);
    const regions: MonitorAlertState['regions'] = {};
    let firstFailureAt: number | null = null;
    for (const [r, c] of Object.entries(shared.regions)) {
      regions[r] = { fails: c.fails, oks: c.oks, failing: c.failing };
      if (c.firstFailureAt !== null && (firstFailureAt === null || c.firstFailureAt < firstFailureAt)) firstFailureAt = c.firstFailureAt;
    }
    const out = applySharedRun(prev, m.rule, run, { regions, firstFailureAt }, this.ctx(m, run.at));
    this.states.set(m.id, out.state);
    if (out.events.length > 0) this.enqueue(m.id, () => this.write(m, prev.status, out.events, out.state));
  }

  /** Time passing: reminders, and monitors whose suppression (maintenance, parent down) ended. */
  tickAll(): void {
    const at = this.o.now();
    for (const [id, prev] of this.states) {
      const m = this.monitors.get(id);
      if (!m) continue;
      const out = tick(prev, m.rule, at, this.ctx(m, at));
      this.states.set(id, out.state);
      if (out.events.length > 0) this.enqueue(id, () => this.write(m, prev.status, out.events, out.state));
    }
  }

  private enqueue(monitorId: string, work: () => Promise<void>): void {
    const prev = this.chains.get(monitorId) ?? Promise.resolve();
    const p = prev.then(work).catch((err: unknown) => this.o.logger?.error({ err, monitorId }, 'alert evaluation failed'));
    this.chains.set(monitorId, p);
    void p.then(() => {
      if (this.chains.get(monitorId) === p) this.chains.delete(monitorId);
    });
  }

  private async write(m: MonitorEntry, before: MonitorAlertStatus, events: AlertEvent[], state: MonitorAlertState): Promise<void> {
    let status = before;
    for (const e of events) {
      const expected = EXPECTED[e.kind] ?? status;
      const out = await this.o.alerts.applyTransition({
        monitorId: m.id,
        monitorName: m.name,
        kind: e.kind,
        expected,
        next: NEXT[e.kind],
        at: e.at,
        firstFailureAt: e.firstFailureAt ?? state.firstFailureAt,
        reason: e.reason,
        ...(e.reminder !== undefined ? { reminder: e.reminder } : {}),
        channelIds: m.channelIds,
        details: { failingRegions: e.failingRegions, ...(e.p95Ms !== undefined ? { p95Ms: e.p95Ms } : {}) },
      });
      status = NEXT[e.kind];
      if (out === null) {
        this.o.logger?.debug({ monitorId: m.id, kind: e.kind }, 'alert transition already applied elsewhere');
        continue;
      }
      this.transitions++;
      if (out.outboxIds.length > 0) this.o.onOutbox?.();
    }
  }

  /** Resolves when every run queued so far is judged and every transition it caused is written. */
  async flush(): Promise<void> {
    while (this.draining !== null || this.pending.length > 0 || this.chains.size > 0) {
      if (this.draining === null && this.pending.length > 0) this.drain();
      await this.draining;
      await Promise.all([...this.chains.values()]);
    }
  }
}

function noRegionFailing(st: MonitorAlertState): boolean {
  for (const r in st.regions) {
    const c = st.regions[r]!;
    if (c.failing || c.fails > 0) return false;
  }
  return st.firstFailureAt === null;
}

/**
 * Another replica changed the stored status (it judged a run of a region this replica does not ingest): take it
 * over, so this replica's next judgement starts from it. Reminders count from now.
 */
function adoptStoredStatus(prev: MonitorAlertState, status: MonitorAlertStatus, at: number): MonitorAlertState {
  const up = status === 'up';
  return { ...prev, status, since: up ? null : at, lastNotifiedAt: status === 'down' ? at : null, remindersSent: 0 };
}
