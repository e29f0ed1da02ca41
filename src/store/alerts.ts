/**
 * The alerts store: notification channels, each monitor's alert status, incidents with their timeline, and the
 * notification outbox. A state change (`applyTransition`) writes the monitor's status, the incident and one
 * outbox row per channel in ONE transaction, guarded by the status it expects (compare-and-set), so two replicas
 * that evaluate the same change produce it once; the sender then claims due rows with a lease.
 */
export type MonitorAlertStatus = 'up' | 'down' | 'degraded';
export type TransitionKind = 'down' | 'resolved' | 'degraded' | 'recovered' | 'reminder';
export type IncidentStatus = 'investigating' | 'identified' | 'monitoring' | 'resolved';
export type IncidentImpact = 'none' | 'minor' | 'major' | 'critical';
export const INCIDENT_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export const INCIDENT_IMPACTS = ['none', 'minor', 'major', 'critical'] as const;
export const CHANNEL_TYPES = ['webhook', 'slack', 'discord', 'email', 'pagerduty', 'ntfy', 'telegram'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export interface ChannelRecord {
  id: string;
  name: string;
  type: ChannelType;
  /** Type-specific settings, secrets included (the API masks them). */
  settings: Record<string, unknown>;
  /** Notified for monitors whose rule names no channels. */
  isDefault: boolean;
  enabled: boolean;
  /** 'config': declared in server.yml (re-applied at start); 'api': created through the API or CLI. */
  source: 'config' | 'api';
  createdAt: number;
  updatedAt: number;
}

export interface TransitionInput {
  monitorId: string;
  monitorName: string;
  kind: TransitionKind;
  /** The status the evaluator saw before the change; the change applies only if the stored one matches. */
  expected: MonitorAlertStatus;
  next: MonitorAlertStatus;
  at: number;
  firstFailureAt: number | null;
  reason: string;
  /** Reminder number (reminder transitions): part of the idempotency key. */
  reminder?: number;
  channelIds: string[];
  /** Notification content (JSON), the same for every channel; each row adds its idempotency key. */
  details: Record<string, unknown>;
}

export interface TransitionOutcome {
  incidentId: string;
  /** Outbox rows written by this call (empty when they already existed). */
  outboxIds: string[];
}

export interface TimelineEntry {
  at: number;
  /** first_failure | alert | reminder | acknowledged | resolved | notification | update | degraded | recovered */
  kind: string;
  status: string;
  message: string;
}

export interface IncidentRecord {
  id: string;
  kind: 'auto' | 'manual';
  title: string;
  status: IncidentStatus;
  impact: IncidentImpact;
  monitorIds: string[];
  statusPageSlug: string | null;
  startedAt: number;
  resolvedAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  timeline: TimelineEntry[];
}

export interface IncidentQuery {
  monitorIds?: string[];
  statusPageSlug?: string;
  since?: number;
  limit?: number;
  /** Only open (unresolved) incidents. */
  open?: boolean;
}

export interface ManualIncidentInput {
  title: string;
  status: IncidentStatus;
  impact: IncidentImpact;
  monitorIds: string[];
  statusPageSlug: string | null;
  message: string;
  at: number;
}

export type OutboxStatus = 'pending' | 'delivered' | 'dead';

export interface OutboxRow {
  id: string;
  incidentId: string;
  channelId: string;
  kind: TransitionKind;
  /** Stable per event and channel: receivers deduplicate on it. */
  idempotencyKey: string;
  payload: Record<string, unknown>;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** One region's consecutive-run counts of a monitor, shared by every replica (table alert_region_state). */
export interface RegionAlertCounts {
  fails: number;
  oks: number;
  failing: boolean;
  /** First failed run of the region's current failure streak; null while it passes. */
  firstFailureAt: number | null;
}

export interface RegionRunInput {
  monitorId: string;
  region: string;
  /** The run's time: a run not newer than the region's last counted one (a duplicate, or late) is not counted. */
  at: number;
  /** The pure count update (the state machine's), applied to the stored counts under the row's lock. */
  step: (prev: RegionAlertCounts) => RegionAlertCounts;
  /**
   * Set for a passing run that cannot change which regions fail if its region already passes: when the stored row
   * is steady (no failures, not failing, at least `successThreshold` passes) it is updated in place by one statement
   * and the answer is `steady` without the other regions (the common case, kept cheap on the ingest path).
   */
  steadyUp?: { successThreshold: number };
}

export interface SharedRegionState {
  /** Every region of the monitor with stored counts, this run included. */
  regions: Record<string, RegionAlertCounts>;
  /** The monitor's stored alert status (up when none is stored). */
  status: MonitorAlertStatus;
  /** False when the run was not counted (not newer than the region's last run). */
  counted: boolean;
  /** The `steadyUp` fast path was taken: the region passes as before; `regions` is empty and `status` not read. */
  steady: boolean;
}

export interface AlertsStore {
  /**
   * True when other server processes can write to the same store (PostgreSQL replicas); false on SQLite, which
   * has one server per file (store/sqlite/server-lock.ts). The alert engine keeps region counts in memory when false.
   */
  readonly sharedByReplicas: boolean;
  upsertChannel(c: Omit<ChannelRecord, 'createdAt' | 'updatedAt'>, at: number): Promise<ChannelRecord>;
  listChannels(): Promise<ChannelRecord[]>;
  getChannel(idOrName: string): Promise<ChannelRecord | null>;
  deleteChannel(id: string): Promise<boolean>;

  /** A monitor's own rule override (the snake_case JSON of RuleOverrideSchema); null removes it. */
  putRule(monitorId: string, override: Record<string, unknown> | null, at: number): Promise<void>;
  listRules(): Promise<Map<string, Record<string, unknown>>>;

  /** Every monitor's stored alert status that is not `up` (an absent monitor is up). */
  loadStatuses(): Promise<Map<string, { status: MonitorAlertStatus; incidentId: string | null }>>;
  /**
   * Counts runs of monitors' regions in one transaction, in order (each region's row locked, stepped by `step`,
   * written) and returns, per run, every region's counts after it and the stored status, so that whichever replica
   * ingested a run judges the quorum on all regions, including those whose results went to other replicas.
   */
  recordRegionRuns(runs: readonly RegionRunInput[]): Promise<SharedRegionState[]>;
  /** The state change, its incident and its outbox rows in one transaction; null when `expected` no longer holds. */
  applyTransition(t: TransitionInput): Promise<TransitionOutcome | null>;

  listIncidents(q: IncidentQuery): Promise<IncidentRecord[]>;
  getIncident(id: string): Promise<IncidentRecord | null>;
  /** Records the acknowledgement (first one wins); false when the incident does not exist. */
  acknowledge(id: string, by: string, at: number): Promise<IncidentRecord | null>;
  createManualIncident(i: ManualIncidentInput): Promise<IncidentRecord>;
  /** A status update on an incident (manual or automatic); resolving sets resolved_at. */
  updateIncident(id: string, u: { status: IncidentStatus; message: string; at: number }): Promise<IncidentRecord | null>;

  /**
   * Claims up to `limit` pending rows due at `now` that no other sender holds (a claim lasts `leaseMs`), oldest
   * first. A sender that dies holding a claim is replaced when the claim runs out.
   */
  claimDue(owner: string, now: number, limit: number, leaseMs: number): Promise<OutboxRow[]>;
  /** Marks a claimed row delivered and adds the notification to the incident's timeline. */
  markDelivered(id: string, at: number, detail: string): Promise<void>;
  /** Records a failed attempt: due again at `nextAttemptAt`, or `dead` when `dead` is set. */
  markFailed(id: string, at: number, error: string, nextAttemptAt: number, dead: boolean): Promise<void>;
  listOutbox(q: { incidentId?: string; status?: OutboxStatus }): Promise<OutboxRow[]>;
  /**
   * Retention: deletes delivered and dead outbox rows finished before `outboxBefore`, and incidents resolved before
   * `incidentsBefore` (their timeline and finished outbox rows with them; one with a pending notification is kept).
   * A null cutoff keeps everything of that kind.
   */
  deleteExpired(c: { outboxBefore: number | null; incidentsBefore: number | null }): Promise<{ outbox: number; incidents: number }>;
}

/** A channel's idempotency key: one per incident event (and reminder number) and channel. */
export function idempotencyKey(incidentId: string, kind: TransitionKind, reminder: number | undefined, channelId: string): string {
  return `${incidentId}:${kind}${reminder !== undefined ? `-${reminder}` : ''}:${channelId}`;
}

/** The title of an automatic incident. */
export function autoIncidentTitle(monitorName: string, kind: 'down' | 'degraded'): string {
  return kind === 'down' ? `${monitorName} is down` : `${monitorName} is degraded`;
}
