/**
 * What status pages read about incidents. The alerts component owns incidents and defines the reader
 * (src/monitoring/alerts/contract.ts); the server wires its implementation in; without it, no incidents.
 */
import type { IncidentReader } from '../alerts/contract.js';

export type { IncidentReader, IncidentView } from '../alerts/contract.js';

export const NO_INCIDENTS: IncidentReader = { list: async () => [] };
