/**
 * The "Alert rule" section of a monitor's page: the rule in effect (AlertsService GetRule: defaults, group,
 * server.yml, own override) and, for editors and admins, the monitor's own override (SetRule): thresholds,
 * region quorum, reminders, dependencies, degraded latency and channels; "Clear override" removes it.
 */
import { useState, type FormEvent } from 'react';
import { ApiError, rpc } from '../lib/api';
import { placeError, type Placed } from '../lib/fields';
import { useLoad } from '../lib/hooks';
import { CheckList, FieldError, FormError, useMonitorNames } from '../lib/pickers';
import { buildOverride, parseRuleJson, RULE_FIELDS, RULE_KEYS, ruleFormOf, ruleRows, type RuleForm } from '../lib/rules';
import type { Channel } from './Channels';

interface GetRule {
  ruleJson?: string;
  overrideJson?: string;
}

function RuleEditor({ monitorId, override, onSaved, onCancel }: { monitorId: string; override: Record<string, unknown>; onSaved: () => void; onCancel: () => void }) {
  const [form, setForm] = useState<RuleForm>(() => ruleFormOf(override));
  const [error, setError] = useState<Placed | null>(null);
  const [busy, setBusy] = useState(false);
  const monitors = useMonitorNames();
  const channels = useLoad(() => rpc<{ channels?: Channel[] }>('AlertsService', 'ListChannels'), []);
  const save = async (overrideJson: string) => {
    setBusy(true);
    setError(null);
    try {
      await rpc('AlertsService', 'SetRule', { monitorId, overrideJson });
      onSaved();
    } catch (err) {
      setError(placeError(err instanceof ApiError || err instanceof Error ? err.message : String(err), 'override_json', RULE_KEYS));
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const o = buildOverride(form, override);
    void save(Object.keys(o).length === 0 ? '' : JSON.stringify(o));
  };
  const channelItems = (channels.data?.channels ?? []).map((c) => ({ id: c.name ?? c.id, name: c.name ?? c.id }));
  return (
    <form className="card" aria-label="Alert rule override" onSubmit={submit}>
      <p className="muted">A blank field inherits the group / server.yml / default value.</p>
      <div className="form">
        {RULE_FIELDS.map((f) => (
          <label key={f.key}>
            {f.label}
            <input value={form.values[f.key]} onChange={(e) => setForm((x) => ({ ...x, values: { ...x.values, [f.key]: e.target.value } }))} placeholder="inherit" />
            <FieldError field={f.key} at={error} />
          </label>
        ))}
      </div>
      <div className="form" style={{ marginTop: 10 }}>
        <div>
          <CheckList label="Depends on" items={(monitors.data ?? []).filter((m) => m.id !== monitorId)} selected={form.dependsOn} onChange={(ids) => setForm((x) => ({ ...x, dependsOn: ids }))} />
          <FieldError field="depends_on" at={error} />
        </div>
        <div>
          <CheckList label="Channels (none ticked: the default channels)" items={channelItems} selected={form.channels} onChange={(ids) => setForm((x) => ({ ...x, channels: ids }))} />
          <FieldError field="channels" at={error} />
        </div>
      </div>
      <FormError at={error} />
      <div className="row" style={{ marginTop: 10 }}>
        <button type="submit" disabled={busy}>
          Save rule
        </button>
        <button type="button" className="secondary" disabled={busy} onClick={() => void save('')}>
          Clear override
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function MonitorRule({ monitorId, canEdit }: { monitorId: string; canEdit: boolean }) {
  const got = useLoad(() => rpc<GetRule>('AlertsService', 'GetRule', { monitorId }), [monitorId]);
  const [editing, setEditing] = useState(false);
  if (got.error !== '' && got.data === null) return <p className="muted">Alert rule: {got.error}</p>;
  if (got.data === null) return <p className="muted">Loading the alert rule…</p>;
  const rule = parseRuleJson(got.data.ruleJson);
  const override = parseRuleJson(got.data.overrideJson);
  const own = new Set(Object.keys(override));
  const ownKey: Record<string, string> = {
    'failure threshold': 'failure_threshold',
    'success threshold': 'success_threshold',
    'region quorum': 'region_quorum',
    'reminder interval': 'reminder_interval_ms',
    'max reminders': 'max_reminders',
    'depends on': 'depends_on',
    'degraded above p95': 'degraded_latency_ms',
    'p95 window': 'degraded_window_ms',
    channels: 'channels',
  };
  return (
    <>
      <div className="row">
        <h2>Alert rule</h2>
        {canEdit && !editing && (
          <button className="secondary" onClick={() => setEditing(true)}>
            Edit rule
          </button>
        )}
      </div>
      <table aria-label="alert rule">
        <tbody>
          {ruleRows(rule).map(([label, value]) => (
            <tr key={label} data-rule={ownKey[label]}>
              <th>{label}</th>
              <td>
                {value}
                {own.has(ownKey[label] ?? '') && <small className="muted"> (this monitor)</small>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing && (
        <RuleEditor
          monitorId={monitorId}
          override={override}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            got.reload();
          }}
        />
      )}
    </>
  );
}
