/** Overview: monitors up/down/paused, 24 h runs and failures, recent failures, slowest monitors, region health. */
import { useState } from 'react';
import { num, rpc } from '../lib/api';
import { ago, ms, StatusDot } from '../lib/format';
import { useLive, useLoad } from '../lib/hooks';
import { href, navigate } from '../lib/router';
import type { Overview, RegionHealth } from '../lib/types';

function Stat({ label, value, cls }: { label: string; value: string | number; cls?: string }) {
  return (
    <div className="stat">
      <span className="muted">{label}</span>
      <b className={cls}>{value}</b>
    </div>
  );
}

export function OverviewPage() {
  const first = useLoad(() => rpc<Overview>('DashboardService', 'GetOverview', {}), []);
  const regions = useLoad(() => rpc<{ regions?: RegionHealth[] }>('DashboardService', 'GetRegionHealth', {}), []);
  const [live, setLive] = useState<Overview | null>(null);
  useLive<Overview>('overview', setLive);
  const o = live ?? first.data;
  if (first.error !== '' && o === null) return <p className="error">{first.error}</p>;
  if (o === null) return <p className="muted">Loading…</p>;
  const runs = num(o.runs24h);
  const fails = num(o.failures24h);
  return (
    <div>
      <h1>Overview</h1>
      <div className="grid">
        <Stat label="Monitors" value={o.monitorsTotal ?? 0} />
        <Stat label="Up" value={o.monitorsUp ?? 0} cls="up" />
        <Stat label="Down" value={o.monitorsDown ?? 0} cls={(o.monitorsDown ?? 0) > 0 ? 'down' : ''} />
        <Stat label="Paused" value={o.monitorsPaused ?? 0} cls="paused" />
        <Stat label="Pending" value={o.monitorsPending ?? 0} cls="paused" />
        <Stat label="Runs (24 h)" value={runs.toLocaleString()} />
        <Stat label="Failures (24 h)" value={`${fails.toLocaleString()}${runs > 0 ? ` (${((100 * fails) / runs).toFixed(2)} %)` : ''}`} />
      </div>
      <h2>Region health</h2>
      {regions.error !== '' && <p className="error">{regions.error}</p>}
      <table>
        <thead>
          <tr>
            <th>Region</th>
            <th>State</th>
            <th>Connected</th>
            <th>Active</th>
            <th>Inactive</th>
            <th>Revoked</th>
          </tr>
        </thead>
        <tbody>
          {(regions.data?.regions ?? []).map((r) => (
            <tr key={r.region}>
              <td>{r.region}</td>
              <td>
                <StatusDot status={r.state} />
              </td>
              <td>{r.connected ?? 0}</td>
              <td>{r.active ?? 0}</td>
              <td>{r.inactive ?? 0}</td>
              <td>{r.revoked ?? 0}</td>
            </tr>
          ))}
          {(regions.data?.regions ?? []).length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                No workers have registered yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="row" style={{ alignItems: 'start' }}>
        <div style={{ flex: 2, minWidth: 420 }}>
          <h2>Recent failures</h2>
          <table>
            <thead>
              <tr>
                <th>Monitor</th>
                <th>When</th>
                <th>Region</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {(o.recentFailures ?? []).map((f, i) => (
                <tr key={i}>
                  <td>
                    <a href={href(`/monitors/${f.monitorId}`)} onClick={(e) => (e.preventDefault(), navigate(`/monitors/${f.monitorId}`))}>
                      {f.monitorName}
                    </a>
                  </td>
                  <td>{ago(f.eventAtMs)}</td>
                  <td>{f.region}</td>
                  <td className="down">{[f.errorClass, f.httpCode ? `HTTP ${f.httpCode}` : '', f.error].filter(Boolean).join(' · ')}</td>
                </tr>
              ))}
              {(o.recentFailures ?? []).length === 0 && (
                <tr>
                  <td colSpan={4} className="muted">
                    No failures in the last 24 h.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <div style={{ flex: 1, minWidth: 300 }}>
          <h2>Slowest (last hour, p95)</h2>
          <table>
            <thead>
              <tr>
                <th>Monitor</th>
                <th>p95</th>
                <th>p99</th>
              </tr>
            </thead>
            <tbody>
              {(o.slowest ?? []).map((s) => (
                <tr key={s.monitorId}>
                  <td>
                    <a href={href(`/monitors/${s.monitorId}`)} onClick={(e) => (e.preventDefault(), navigate(`/monitors/${s.monitorId}`))}>
                      {s.monitorName}
                    </a>
                  </td>
                  <td>{ms(s.p95Ms)}</td>
                  <td>{ms(s.p99Ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}
