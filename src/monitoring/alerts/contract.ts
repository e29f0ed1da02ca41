/**
 * The interfaces shared with status pages (docs: /work contract "Between alerts and status-pages"):
 * alerts reads a MaintenanceCalendar (owned by src/monitoring/maintenance/, declared here structurally so this
 * folder does not depend on it) and exports the IncidentReader status pages read incidents through.
 */
import type { AlertsStore, IncidentRecord } from '../../store/alerts.js';

export interface MaintenanceWindowRef {
  id: string;
  title: string;
  endsAt: number;
}

export interface MaintenanceCalendar {
  activeFor(monitorId: string, atMs: number): MaintenanceWindowRef | null;
}

/** No window is ever active (the default until maintenance windows are wired). */
export const NO_MAINTENANCE: MaintenanceCalendar = { activeFor: () => null };

export interface IncidentView {
  id: string;
  title: string;
  status: 'investigating' | 'identified' | 'monitoring' | 'resolved';
  impact: 'none' | 'minor' | 'major' | 'critical';
  monitorIds: string[];
  startedAt: number;
  resolvedAt: number | null;
  updates: { at: number; status: string; message: string }[];
}

export interface IncidentReader {
  list(q: { monitorIds?: string[]; statusPageSlug?: string; since?: number; limit?: number }): Promise<IncidentView[]>;
}

/** Timeline kinds shown publicly as updates (notification outcomes and acknowledgements stay internal). */
const PUBLIC_KINDS = new Set(['update', 'alert', 'degraded', 'resolved', 'recovered']);

export function incidentView(i: IncidentRecord): IncidentView {
  return {
    id: i.id,
    title: i.title,
    status: i.status,
    impact: i.impact,
    monitorIds: [...i.monitorIds],
    startedAt: i.startedAt,
    resolvedAt: i.resolvedAt,
    updates: i.timeline
      .filter((e) => PUBLIC_KINDS.has(e.kind))
      .map((e) => ({ at: e.at, status: e.status, message: e.kind === 'update' ? e.message : e.kind === 'resolved' || e.kind === 'recovered' ? 'Resolved' : i.title })),
  };
}

/** The IncidentReader over the alerts store. */
export function incidentReader(store: AlertsStore): IncidentReader {
  return {
    async list(q) {
      return (await store.listIncidents(q)).map(incidentView);
    },
  };
}
