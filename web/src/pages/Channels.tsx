/** Alert channels: the configured channels (the API masks secrets in settings) and, for editors+, "Send test". */
import { useState } from 'react';
import { rpc } from '../lib/api';
import { useLoad } from '../lib/hooks';
import { atLeast } from '../lib/roles';
import type { PageProps } from './index';

interface Channel {
  id: string;
  name?: string;
  type?: string;
  settingsJson?: string;
  isDefault?: boolean;
  enabled?: boolean;
  source?: string;
}

/** The masked settings as "key: value" pairs (the raw text if it is not a JSON object). */
function settingsText(json: string | undefined): string {
  if (!json) return '–';
  try {
    const o = JSON.parse(json) as Record<string, unknown>;
    return Object.entries(o)
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ');
  } catch {
    return json;
  }
}

export function ChannelsPage({ session }: PageProps) {
  const canEdit = atLeast(session.user.role, 'editor');
  const list = useLoad(() => rpc<{ channels?: Channel[] }>('AlertsService', 'ListChannels'), []);
  const [results, setResults] = useState<Record<string, { ok: boolean; detail: string } | 'sending'>>({});
  const test = async (id: string) => {
    setResults((r) => ({ ...r, [id]: 'sending' }));
    try {
      const r = await rpc<{ ok?: boolean; detail?: string }>('AlertsService', 'TestChannel', { id });
      setResults((x) => ({ ...x, [id]: { ok: r.ok === true, detail: r.detail ?? '' } }));
    } catch (err) {
      setResults((x) => ({ ...x, [id]: { ok: false, detail: err instanceof Error ? err.message : String(err) } }));
    }
  };
  const channels = list.data?.channels ?? [];
  return (
    <>
      <h1>Alert channels</h1>
      {list.error !== '' && <p className="error">{list.error}</p>}
      {list.data && channels.length === 0 && <p className="muted">No channels configured.</p>}
      {channels.length > 0 && (
        <table aria-label="channels">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Settings</th>
              <th>Default</th>
              <th>Enabled</th>
              <th>Source</th>
              {canEdit && <th />}
            </tr>
          </thead>
          <tbody>
            {channels.map((c) => {
              const r = results[c.id];
              return (
                <tr key={c.id} data-channel={c.id}>
                  <td>{c.name}</td>
                  <td>{c.type}</td>
                  <td>
                    <code>{settingsText(c.settingsJson)}</code>
                  </td>
                  <td>{c.isDefault ? 'yes' : 'no'}</td>
                  <td>{c.enabled ? 'yes' : 'no'}</td>
                  <td>{c.source}</td>
                  {canEdit && (
                    <td>
                      <button disabled={r === 'sending'} onClick={() => void test(c.id)}>
                        Send test
                      </button>{' '}
                      {r !== undefined && r !== 'sending' && (
                        <span className={r.ok ? 'up' : 'down'} role="status">
                          {r.ok ? 'sent' : 'failed'}: {r.detail}
                        </span>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
