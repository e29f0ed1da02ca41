/**
 * Checks, before anything is opened or created, that every port a process will listen on is free: each is
 * bound for a moment and released. All taken ports are reported together, so an operator fixes them in one go
 * instead of learning about them one start at a time.
 */
import { createServer } from 'node:net';

export interface PortClaim {
  /** The setting (or flag) that names the port, e.g. `port`, `worker_port`, `--demo-port`. */
  key: string;
  host: string;
  port: number;
  /** What to say after "set KEY to a free port", e.g. "or monitoring_enabled: false". */
  alternative?: string;
}

/** One or more ports cannot be listened on; `problems` holds one line per port, naming its setting. */
export class PortsUnavailableError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'PortsUnavailableError';
  }
}

const shownHost = (host: string): string => (host === '' ? '0.0.0.0' : host);
const WILDCARDS = new Set(['', '0.0.0.0', '::']);
/** Two listeners on one port collide when they share the address or either takes every address. */
const overlaps = (a: PortClaim, b: PortClaim): boolean => a.host === b.host || WILDCARDS.has(a.host) || WILDCARDS.has(b.host);

/** What a listen error on a claimed port means, naming the setting; null for an error that is not about the port. */
export function describePortError(claim: PortClaim, err: NodeJS.ErrnoException): string | null {
  const where = `${claim.key} ${claim.port} on ${shownHost(claim.host)}`;
  const fix = `set ${claim.key} to a free port${claim.alternative ? `, ${claim.alternative}` : ''}`;
  if (err.code === 'EADDRINUSE') return `${where} is already in use (${fix})`;
  if (err.code === 'EACCES') return `${where}: not allowed to listen there (ports below 1024 need privileges; ${fix})`;
  if (err.code === 'EADDRNOTAVAIL') return `${where}: ${shownHost(claim.host)} is not an address of this machine`;
  return null;
}

function tryBind(claim: PortClaim): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    probe.listen({ port: claim.port, host: claim.host === '' ? undefined : claim.host, exclusive: true }, () => {
      probe.close(() => resolve(null));
    });
  });
}

/**
 * Resolves when every claimed port (port 0 = any free port, not checked) can be listened on; rejects with
 * a PortsUnavailableError naming every one that cannot, including two settings that claim the same port.
 */
export async function checkPortsFree(claims: readonly PortClaim[]): Promise<void> {
  const fixed = claims.filter((c) => c.port !== 0);
  const problems: string[] = [];
  const distinct: PortClaim[] = [];
  for (const c of fixed) {
    const first = distinct.find((d) => d.port === c.port && overlaps(d, c));
    if (first !== undefined) {
      problems.push(`${first.key} and ${c.key} are both ${c.port}; give each its own port`);
      continue;
    }
    distinct.push(c);
  }
  const results = await Promise.all(distinct.map(async (c) => ({ c, err: await tryBind(c) })));
  for (const { c, err } of results) {
    if (err === null) continue;
    problems.push(describePortError(c, err) ?? `${c.key} ${c.port} on ${shownHost(c.host)}: ${err.message}`);
  }
  if (problems.length > 0) throw new PortsUnavailableError(problems);
}
