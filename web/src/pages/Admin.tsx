/** Workers, users (admin) and the audit log. */
import { useState, type FormEvent } from 'react';
import { ApiError, rpc } from '../lib/api';
import { ago, StatusDot, when } from '../lib/format';
import { useLoad } from '../lib/hooks';
import type { AuditEvent, User, Worker } from '../lib/types';
import type { PageProps } from './index';

export function WorkersPage() {
  const w = useLoad(() => rpc<{ workers?: Worker[] }>('MonitorsService', 'ListWorkers', {}), []);
  return (
    <div>
      <h1>Workers</h1>
      {w.error !== '' && <p className="error">{w.error}</p>}
      <table>
        <thead>
          <tr>
            <th>Worker</th>
            <th>Host</th>
            <th>Region</th>
            <th>Status</th>
            <th>Stream</th>
            <th>Version</th>
            <th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          {(w.data?.workers ?? []).map((x) => (
            <tr key={x.id}>
              <td>{x.id}</td>
              <td>{x.hostname}</td>
              <td>{x.region}</td>
              <td>
                <StatusDot status={x.status === 'active' ? 'up' : x.status} />
              </td>
              <td>{x.connected ? 'connected' : '–'}</td>
              <td>{x.version}</td>
              <td>{ago(x.lastSeenAtMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function UsersPage({ session }: PageProps) {
  const users = useLoad(() => rpc<{ users?: User[] }>('UserService', 'ListUsers', {}), []);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState('viewer');
  const [error, setError] = useState('');
  const act = async (fn: () => Promise<unknown>) => {
    setError('');
    try {
      await fn();
      users.reload();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  const create = (e: FormEvent) => {
    e.preventDefault();
    void act(async () => {
      await rpc('UserService', 'CreateUser', { username, password, role });
      setUsername('');
      setPassword('');
    });
  };
  return (
    <div>
      <h1>Users</h1>
      {(users.error !== '' || error !== '') && <p className="error">{error || users.error}</p>}
      <table>
        <thead>
          <tr>
            <th>User</th>
            <th>Role</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(users.data?.users ?? []).map((u) => (
            <tr key={u.id}>
              <td>{u.username}</td>
              <td>
                <select value={u.role} disabled={u.id === session.user.id} onChange={(e) => void act(() => rpc('UserService', 'UpdateUser', { id: u.id, role: e.target.value }))}>
                  {['admin', 'editor', 'viewer'].map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              </td>
              <td>{when(u.createdAtMs)}</td>
              <td>
                {u.id !== session.user.id && (
                  <button className="secondary" onClick={() => window.confirm(`Remove ${u.username}?`) && void act(() => rpc('UserService', 'DeleteUser', { id: u.id }))}>
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="toolbar card" style={{ marginTop: 12 }} onSubmit={create} aria-label="new user">
        <label>
          Username
          <input value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          Password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            {['viewer', 'editor', 'admin'].map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit">Add user</button>
      </form>
    </div>
  );
}

export function AuditPage() {
  const [entity, setEntity] = useState('');
  const a = useLoad(() => rpc<{ events?: AuditEvent[] }>('MonitorsService', 'ListAuditEvents', { entityId: entity, limit: 200 }), [entity]);
  return (
    <div>
      <h1>Audit log</h1>
      <div className="toolbar">
        <label>
          Entity id
          <input value={entity} onChange={(e) => setEntity(e.target.value)} placeholder="any" />
        </label>
      </div>
      {a.error !== '' && <p className="error">{a.error}</p>}
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Actor</th>
            <th>Action</th>
            <th>Entity</th>
          </tr>
        </thead>
        <tbody>
          {(a.data?.events ?? []).map((e) => (
            <tr key={e.id}>
              <td>{when(e.atMs)}</td>
              <td>{e.actor}</td>
              <td>{e.action}</td>
              <td>
                {e.entityType} {e.entityId}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
