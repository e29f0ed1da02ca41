/**
 * A latency chart (p50/p95/p99 lines) with downtime shaded, drawn as SVG. Hand-written instead of uPlot (not
 * among the installed packages): the detail view draws at most a few hundred points, which SVG handles.
 */
import type { MetricPoint } from './types';
import { num } from './api';

const W = 900;
const H = 180;
const PAD = 30;

export function LatencyChart({ points }: { points: readonly MetricPoint[] }) {
  if (points.length === 0) return <p className="muted">No data in this range yet.</p>;
  const xs = points.map((p) => num(p.bucketStartMs));
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  const maxY = Math.max(1, ...points.map((p) => p.p99Ms ?? p.p95Ms ?? p.p50Ms ?? 0));
  const x = (t: number) => PAD + ((t - x0) / (x1 - x0)) * (W - 2 * PAD);
  const y = (v: number) => H - PAD + 10 - (v / maxY) * (H - PAD - 10);
  const line = (k: 'p50Ms' | 'p95Ms' | 'p99Ms') =>
    points
      .filter((p) => p[k] !== undefined)
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(num(p.bucketStartMs)).toFixed(1)},${y(p[k]!).toFixed(1)}`)
      .join(' ');
  const step = points.length > 1 ? (W - 2 * PAD) / (points.length - 1) : 10;
  return (
    <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label="latency p50 p95 p99">
      {points
        .filter((p) => num(p.errorCount) > 0)
        .map((p) => (
          <rect key={`d${num(p.bucketStartMs)}`} x={x(num(p.bucketStartMs)) - step / 2} y={10} width={Math.max(step, 2)} height={H - PAD} fill="rgba(248,81,73,.18)" />
        ))}
      <path d={line('p50Ms')} stroke="#2ea043" fill="none" strokeWidth={1.5} />
      <path d={line('p95Ms')} stroke="#d29922" fill="none" strokeWidth={1.5} />
      <path d={line('p99Ms')} stroke="#f85149" fill="none" strokeWidth={1.5} />
      <text x={PAD} y={12} fill="#8b98a5" fontSize={11}>
        {maxY.toFixed(0)} ms — p50 green, p95 amber, p99 red; red bands: failed checks
      </text>
      <text x={PAD} y={H - 4} fill="#8b98a5" fontSize={11}>
        {new Date(x0).toLocaleString()}
      </text>
      <text x={W - PAD} y={H - 4} fill="#8b98a5" fontSize={11} textAnchor="end">
        {new Date(x1).toLocaleString()}
      </text>
    </svg>
  );
}
