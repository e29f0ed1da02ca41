/**
 * What status pages read about incidents. The alerts component owns incidents and implements this reader
 * (src/monitoring/alerts/); the shape is the one fixed between the two components, repeated here so that status
 * pages build and test on their own. The server wires the alerts implementation in; without it, no incidents.
 */
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

export const NO_INCIDENTS: IncidentReader = { list: async () => [] };
