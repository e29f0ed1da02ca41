/** Fleet: every backend with per-core CPU, memory, disk and GPU bars, health, latency, reservations (live). */
import { useState } from 'react';
import { num, rpc } from '../lib/api';
import { ago, gb, Meter, ms, StatusDot } from '../lib/format';
import { useLive, useLoad } from '../lib/hooks';
import type { Backend, Fleet } from '../lib/types';
import { ExplainPanel } from './Explain';

function Cores({ usage }: { usage: readonly number[] }) {
  return (
    <div className="cores" aria-label={`CPU per core: ${usage.map((u) => u.toFixed(0)).join(', ')} %`}>
      {usage.map((u, i) => (
        <span key={i} title={`core ${i}: ${u.toFixed(1)} %`}>
          <i style={{ height: `${Math.min(100, u)}%`, background: u >= 80 ? 'var(--down)' : undefined }} />
        </span>
      ))}
    </div>
  );
}

function BackendCard({ b }: { b: Backend }) {
  const cpu = b.cpuUsagePct ?? [];
  const mean = cpu.length > 0 ? cpu.reduce((a, x) => a + x, 0) / cpu.length : 0;
  return (
    <div className="card backend" data-backend={b.clientId} data-stats-at={String(b.statsAtMs ?? '')}>
      <header>
        <strong>{b.hostname || b.clientId}</strong>
        <span className="muted">{b.clientId}</span>
        <StatusDot status={b.health ?? 'unknown'} />
        <span>latency {ms(b.latencyMs)}</span>
        <span className={b.active ? '' : 'down'}>{b.active ? `seen ${ago(b.lastSeenMs)}` : `stale (seen ${ago(b.lastSeenMs)})`}</span>
        <span className="muted">{[b.city, b.country].filter(Boolean).join(', ')}</span>
      </header>
      {!b.hasStats ? (
        <p className="muted">No resource report yet.</p>
      ) : (
        <div className="row" style={{ marginTop: 8 }}>
          <div>
            <Cores usage={cpu} />
            <small className="muted" data-testid="cpu-mean">
              CPU {cpu.length} cores, mean {mean.toFixed(1)} %
            </small>
          </div>
          <Meter value={b.memoryUsedGb ?? 0} max={b.memoryTotalGb ?? 0} label={`memory ${gb(b.memoryUsedGb)} / ${gb(b.memoryTotalGb)}`} />
          <Meter value={b.diskUsedGb ?? 0} max={b.diskTotalGb ?? 0} label={`disk ${gb(b.diskUsedGb)} / ${gb(b.diskTotalGb)}`} />
          {(b.gpus ?? []).map((g) => (
            <div key={g.deviceId ?? 0} className="stat" style={{ padding: 6 }}>
              <small>
                GPU {g.deviceId ?? 0} {g.name} {g.reserved ? '(reserved)' : ''}
              </small>
              <Meter value={g.utilizationPct ?? 0} max={100} label={`util ${(g.utilizationPct ?? 0).toFixed(0)} %`} />
              <Meter value={g.memoryUsedGb ?? 0} max={g.memoryTotalGb ?? 0} label={`VRAM ${gb(g.memoryUsedGb)} / ${gb(g.memoryTotalGb)}`} />
              <small className="muted">
                {g.temperatureC !== undefined ? `${g.temperatureC.toFixed(0)} °C` : '– °C'} · {g.powerDrawW !== undefined ? `${g.powerDrawW.toFixed(0)} W` : '– W'}
              </small>
            </div>
          ))}
        </div>
      )}
      <p className="muted" style={{ marginBottom: 0 }}>
        {b.reservationCount ?? 0} reservations ({(b.reservedVcpu ?? 0).toFixed(1)} vCPU, {gb(b.reservedMemoryGb)}) · {b.stickyCount ?? 0} sticky sessions
        {(b.reservations ?? []).slice(0, 5).map((r) => (
          <span key={r.id}>
            {' '}
            · {r.tier}
            {r.stickyId ? ` (${r.stickyId})` : ''} until {new Date(num(r.expiresAtMs)).toLocaleTimeString()}
          </span>
        ))}
      </p>
    </div>
  );
}

export function FleetPage() {
  const first = useLoad(() => rpc<Fleet>('FleetService', 'ListBackends', {}), []);
  const [live, setLive] = useState<Fleet | null>(null);
  useLive<Fleet>('fleet', setLive);
  const f = live ?? first.data;
  return (
    <div>
      <h1>Fleet</h1>
      {first.error !== '' && f === null && <p className="error">{first.error}</p>}
      {f && (
        <p className="muted">
          {f.total ?? 0} backends · {f.active ?? 0} active · {f.stale ?? 0} stale · {f.unhealthy ?? 0} unhealthy · {f.reservations ?? 0} reservations {live ? '· live' : ''}
        </p>
      )}
      {(f?.backends ?? []).map((b) => (
        <BackendCard key={b.clientId} b={b} />
      ))}
      {f && (f.backends ?? []).length === 0 && <p className="muted">No backend has registered.</p>}
      <ExplainPanel />
    </div>
  );
}
