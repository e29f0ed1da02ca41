/** "Why would a `medium` request from this location go where?": FleetService.Explain for a tier and location. */
import { useState, type FormEvent } from 'react';
import { ApiError, rpc } from '../lib/api';

interface ExplainRow {
  clientId: string;
  hostname?: string;
  eligible?: boolean;
  reason?: string;
  detail?: string;
  terms?: { distanceKm?: number; cpu?: number; memory?: number; gpu?: number; latencyMs?: number; total?: number };
}
interface ExplainAnswer {
  tier: string;
  routingDistance?: string;
  region?: string;
  rows?: ExplainRow[];
  ok?: boolean;
  clientId?: string;
  hostname?: string;
  score?: number;
  code?: string;
  message?: string;
}

const f1 = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));

export function ExplainPanel() {
  const [tier, setTier] = useState('medium');
  const [lat, setLat] = useState('');
  const [lon, setLon] = useState('');
  const [region, setRegion] = useState('');
  const [answer, setAnswer] = useState<ExplainAnswer | null>(null);
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    try {
      const req: Record<string, unknown> = { tier, region };
      if (lat.trim() !== '' || lon.trim() !== '') {
        req.latitude = Number(lat);
        req.longitude = Number(lon);
      }
      setAnswer(await rpc<ExplainAnswer>('FleetService', 'Explain', req));
    } catch (err) {
      setAnswer(null);
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  return (
    <section className="card" aria-label="explain">
      <h2>Explain a routing decision</h2>
      <form className="toolbar" onSubmit={(e) => void submit(e)}>
        <label>
          Tier
          <input value={tier} onChange={(e) => setTier(e.target.value)} size={14} />
        </label>
        <label>
          Latitude
          <input value={lat} onChange={(e) => setLat(e.target.value)} size={8} />
        </label>
        <label>
          Longitude
          <input value={lon} onChange={(e) => setLon(e.target.value)} size={8} />
        </label>
        <label>
          Region
          <input value={region} onChange={(e) => setRegion(e.target.value)} size={10} />
        </label>
        <button type="submit">Explain</button>
      </form>
      {error !== '' && <p className="error">{error}</p>}
      {answer && (
        <div>
          <p>
            {answer.ok ? (
              <>
                A <b>{answer.tier}</b> request goes to <b>{answer.hostname || answer.clientId}</b> (score {f1(answer.score)}, distance by {answer.routingDistance ?? 'haversine'}
                {answer.region ? `, region ${answer.region}` : ''}).
              </>
            ) : (
              <span className="error">{answer.message}</span>
            )}
          </p>
          <table>
            <thead>
              <tr>
                <th>Backend</th>
                <th>Eligible</th>
                <th>Distance km</th>
                <th>CPU</th>
                <th>Memory</th>
                <th>GPU</th>
                <th>Latency</th>
                <th>Score</th>
              </tr>
            </thead>
            <tbody>
              {(answer.rows ?? []).map((r) => (
                <tr key={r.clientId} className={r.clientId === answer.clientId ? 'up' : ''}>
                  <td>{r.hostname || r.clientId}</td>
                  <td>{r.eligible ? 'yes' : `no: ${r.reason ?? ''}${r.detail ? ` (${r.detail})` : ''}`}</td>
                  <td>{f1(r.terms?.distanceKm)}</td>
                  <td>{f1(r.terms?.cpu)}</td>
                  <td>{f1(r.terms?.memory)}</td>
                  <td>{f1(r.terms?.gpu)}</td>
                  <td>{f1(r.terms?.latencyMs)}</td>
                  <td>{f1(r.terms?.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
