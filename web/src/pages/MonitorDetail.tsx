/**
 * Monitor detail: 90-day uptime bar (1d rollups), latest checks bar, latency p50/p95/p99 with downtime shaded
 * (1h rollups, 48 h), per-region breakdown, recent results with error class and timing waterfall, and the
 * monitor's alert rule (MonitorRule.tsx).
 */
import { useState } from 'react';
import { num, rpc } from '../lib/api';
import { LatencyChart } from '../lib/chart';
import { ago, Bars, ms, pct, StatusDot } from '../lib/format';
import { useLive, useLoad } from '../lib/hooks';
import { navigate } from '../lib/router';
import type { CheckResult, MetricPoint, Monitor } from '../lib/types';
import { atLeast } from '../lib/roles';
import type { PageProps } from './index';
import { MonitorForm } from './MonitorForm';
import { MonitorRule } from './MonitorRule';

const DAY = 86_400_000;

function dayBars(points: readonly MetricPoint[], now: number): Array<{ cls: string; title: string }> {
  const byDay = new Map(points.map((p) => [Math.floor(num(p.bucketStartMs) / DAY), p]));
  const today = Math.floor(now / DAY);
  return Array.from({ length: 90 }, (_, i) => {
    const d = today - 89 + i;
    const p = byDay.get(d);
    const date = new Date(d * DAY).toISOString().slice(0, 10);
    if (!p || num(p.count) === 0) return { cls: '', title: `${date}: no data` };
    const u = p.uptimePct ?? 0;
    return { cls: u >= 99.9 ? 'up' : u >= 95 ? 'part' : 'down', title: `${date}: ${u.toFixed(2)} % of ${num(p.count)} checks` };
  });
}

const PHASES: Array<[keyof CheckResult, string, string]> = [
  ['dnsMs', 'DNS', '#8957e5'],
  ['connectMs', 'connect', '#4493f8'],
  ['tlsMs', 'TLS', '#2ea043'],
  ['ttfbMs', 'TTFB', '#d29922'],
  ['downloadMs', 'download', '#f85149'],
];

function Waterfall({ r, scale }: { r: CheckResult; scale: number }) {
  return (
    <div style={{ display: 'flex', width: 220, height: 10, background: '#22303c' }} title={PHASES.map(([k, n]) => `${n} ${ms(r[k] as number | undefined)}`).join(', ')}>
      {PHASES.map(([k, n, c]) => {
        const v = (r[k] as number | undefined) ?? 0;
        return <i key={n} style={{ width: `${(100 * v) / scale}%`, background: c, display: 'block' }} />;
      })}
    </div>
  );
}

export function MonitorDetailPage({ session, params }: PageProps) {
  const id = params.id!;
  const [editing, setEditing] = useState(false);
  const [bump, setBump] = useState(0);
  const data = useLoad(async () => {
    const now = Date.now();
    const [m, uptime, days, hours, results] = await Promise.all([
      rpc<{ monitor: Monitor }>('MonitorsService', 'GetMonitor', { id }),
      rpc<{ last24h?: MetricPoint; last7d?: MetricPoint; last30d?: MetricPoint }>('MonitorsService', 'GetUptime', { monitorId: id }),
      rpc<{ points?: MetricPoint[] }>('MonitorsService', 'GetMetrics', { monitorId: id, resolution: '1d', fromMs: String(Math.floor(now / DAY) * DAY - 89 * DAY), toMs: String(now + 1) }),
      rpc<{ points?: MetricPoint[] }>('MonitorsService', 'GetMetrics', { monitorId: id, resolution: '1h', fromMs: String(now - 2 * DAY), toMs: String(now + 1) }),
      rpc<{ results?: CheckResult[] }>('MonitorsService', 'ListResults', { monitorId: id, limit: 90 }),
    ]);
    return { m: m.monitor, uptime, days: days.points ?? [], hours: hours.points ?? [], results: results.results ?? [], now };
  }, [id, bump]);
  useLive<{ monitorId: string }>('result', (r) => {
    if (r.monitorId === id) setBump((b) => b + 1);
  });
  if (data.error !== '' && data.data === null) return <p className="error">{data.error}</p>;
  if (data.data === null) return <p className="muted">Loading…</p>;
  const { m, uptime, days, hours, results, now } = data.data;
  const canEdit = atLeast(session.user.role, 'editor') && !(m.owner ?? '').startsWith('system:');
  const latest = results[0];
  const regions = new Map<string, { n: number; up: number; total: number }>();
  for (const r of results) {
    const k = r.region ?? '';
    const e = regions.get(k) ?? { n: 0, up: 0, total: 0 };
    e.n++;
    if (r.status === 'up') {
      e.up++;
      e.total += r.totalMs ?? 0;
    }
    regions.set(k, e);
  }
  const scale = Math.max(1, ...results.map((r) => r.totalMs ?? 0));
  return (
    <div>
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h1>
          {m.name} <small className="muted">{m.type ?? 'http'} · every {num(m.intervalMs) / 1000} s</small>
        </h1>
        <div className="row">
          {canEdit && !editing && <button onClick={() => setEditing(true)}>Edit</button>}
          {canEdit && (
            <button
              className="secondary"
              onClick={() => {
                if (window.confirm(`Delete monitor ${m.name}?`)) void rpc('MonitorsService', 'DeleteMonitor', { id }).then(() => navigate('/monitors'));
              }}
            >
              Delete
            </button>
          )}
        </div>
      </div>
      {editing && (
        <MonitorForm
          monitor={m}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            data.reload();
          }}
        />
      )}
      <p className="muted">
        {m.url} · regions {(m.regions ?? []).join(', ')} · {m.enabled === false ? 'paused' : 'enabled'}
      </p>
      <div className="grid">
        <div className="stat">
          <span className="muted">Now</span>
          <b>{latest ? <StatusDot status={latest.status} /> : <span className="paused">pending</span>}</b>
          <small className="muted">{latest ? ago(latest.eventAtMs, now) : 'no result yet'}</small>
        </div>
        {(['last24h', 'last7d', 'last30d'] as const).map((k) => (
          <div className="stat" key={k}>
            <span className="muted">Uptime {k.slice(4)}</span>
            <b>{pct(num(uptime[k]?.count) > 0 ? uptime[k]?.uptimePct : undefined)}</b>
            <small className="muted">
              p50 {ms(uptime[k]?.p50Ms)} · p95 {ms(uptime[k]?.p95Ms)} · p99 {ms(uptime[k]?.p99Ms)}
            </small>
          </div>
        ))}
      </div>
      <MonitorRule monitorId={id} canEdit={canEdit} />
      <h2>Last 90 checks</h2>
      <Bars
        big
        label="last 90 checks"
        items={[
          ...Array.from({ length: Math.max(0, 90 - results.length) }, () => ({ cls: '', title: 'no result' })),
          ...[...results].reverse().map((r) => ({ cls: r.status === 'up' ? 'up' : 'down', title: `${new Date(num(r.eventAtMs)).toLocaleString()}: ${r.status}` })),
        ]}
      />
      <h2>90 days</h2>
      <Bars big label="uptime per day, 90 days" items={dayBars(days, now)} />
      <h2>Latency (48 h, hourly)</h2>
      <LatencyChart points={hours} />
      <h2>Regions (last {results.length} checks)</h2>
      <table>
        <thead>
          <tr>
            <th>Region</th>
            <th>Checks</th>
            <th>Up</th>
            <th>Mean latency</th>
          </tr>
        </thead>
        <tbody>
          {[...regions.entries()].map(([r, e]) => (
            <tr key={r}>
              <td>{r}</td>
              <td>{e.n}</td>
              <td>{pct((100 * e.up) / e.n)}</td>
              <td>{ms(e.up > 0 ? e.total / e.up : undefined)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Recent results</h2>
      <table aria-label="recent results">
        <thead>
          <tr>
            <th>When</th>
            <th>Region</th>
            <th>Status</th>
            <th>Code</th>
            <th>Total</th>
            <th>Timing (DNS, connect, TLS, TTFB, download)</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {results.slice(0, 30).map((r) => (
            <tr key={r.runId + r.eventAtMs}>
              <td>{new Date(num(r.eventAtMs)).toLocaleTimeString()}</td>
              <td>{r.region}</td>
              <td>
                <StatusDot status={r.status} />
              </td>
              <td>{r.httpCode ?? ''}</td>
              <td>{ms(r.totalMs)}</td>
              <td>
                <Waterfall r={r} scale={scale} />
              </td>
              <td className="down">{[r.errorClass, r.error].filter(Boolean).join(': ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
