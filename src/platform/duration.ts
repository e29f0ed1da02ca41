/** Duration text ↔ milliseconds, shared by the CLI flags and the monitor files (monitors.yml, server.yml `monitors:`). */

/** "30s", "5m", "1h", "1d", "500ms"; a bare number is seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!m) throw new Error(`not a duration: "${text}" (use e.g. 30s, 5m, 1h, 500ms)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const mult = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!;
  return Math.round(n * mult);
}

/** A flag's duration in ms, above 0; the error names the flag and what it takes. */
export function parsePositiveDurationFlag(flag: string, text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new Error(`${flag}: expected a duration such as 10s, 500ms or 2m (a bare number is seconds), got "${text}"`);
  }
  if (ms <= 0) throw new Error(`${flag}: expected a duration above 0, got "${text}"`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
