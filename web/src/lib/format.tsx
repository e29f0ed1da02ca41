/** Small display helpers shared by the pages. */
import { num } from './api';

export const ms = (v: number | undefined | null): string => (v === undefined || v === null ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);
export const pct = (v: number | undefined | null, digits = 2): string => (v === undefined || v === null ? '–' : `${v.toFixed(digits)} %`);
export const gb = (v: number | undefined): string => `${(v ?? 0).toFixed(1)} GB`;

export function ago(atMs: string | number | undefined, now = Date.now()): string {
  const t = num(atMs);
  if (t === 0) return '–';
  const s = Math.round((now - t) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export const when = (atMs: string | number | undefined): string => (num(atMs) === 0 ? '–' : new Date(num(atMs)).toLocaleString());

/** A row of status bars, oldest left; `title` per bar. */
export function Bars({ items, big = false, label }: { items: Array<{ cls: string; title: string }>; big?: boolean; label: string }) {
  return (
    <div className={big ? 'bars big' : 'bars'} role="img" aria-label={label}>
      {items.map((b, i) => (
        <span key={i} className={b.cls} title={b.title} />
      ))}
    </div>
  );
}

export function Meter({ value, max, label }: { value: number; max: number; label: string }) {
  const p = max > 0 ? Math.min(100, (100 * value) / max) : 0;
  return (
    <div title={label} aria-label={label}>
      <div className="meter">
        <i style={{ width: `${p}%`, background: p > 90 ? 'var(--down)' : p > 75 ? 'var(--warn)' : undefined }} />
      </div>
      <small className="muted">{label}</small>
    </div>
  );
}

export function StatusDot({ status }: { status: string }) {
  return <span className={status === 'up' || status === 'healthy' ? 'up' : status === 'paused' || status === 'pending' || status === 'unknown' ? 'paused' : 'down'}>● {status}</span>;
}
