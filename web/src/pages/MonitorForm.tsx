/**
 * Create or edit a monitor. The server validates (URL, interval, assertions…); its message names the field
 * ("interval_ms: must be between …", "assertions[0]: …"), and the form shows it at that field.
 */
import { useState, type FormEvent } from 'react';
import { ApiError, num, rpc } from '../lib/api';
import type { Monitor } from '../lib/types';

const FIELDS = ['name', 'type', 'url', 'method', 'interval_ms', 'timeout_ms', 'assertions', 'regions', 'options_json', 'enabled'] as const;
type Field = (typeof FIELDS)[number];

/** Which field a server message is about (its leading "field:" or "field[i]:"), else null. */
export function fieldOf(message: string): Field | null {
  const m = /^(?:\[invalid_argument\] )?([a-z_]+)(?:\[\d+\])?[:\s]/.exec(message);
  const f = m?.[1] as Field | undefined;
  return f !== undefined && (FIELDS as readonly string[]).includes(f) ? f : null;
}

interface Props {
  monitor?: Monitor;
  onSaved: (m: Monitor) => void;
  onCancel: () => void;
}

export function MonitorForm({ monitor, onSaved, onCancel }: Props) {
  const [name, setName] = useState(monitor?.name ?? '');
  const [type, setType] = useState(monitor?.type ?? 'http');
  const [url, setUrl] = useState(monitor?.url ?? 'https://');
  const [method, setMethod] = useState(monitor?.method ?? 'GET');
  const [intervalS, setIntervalS] = useState(monitor ? String(num(monitor.intervalMs) / 1000) : '60');
  const [timeoutS, setTimeoutS] = useState(monitor ? String(num(monitor.timeoutMs) / 1000) : '10');
  const [assertions, setAssertions] = useState((monitor?.assertions ?? []).join('\n'));
  const [regions, setRegions] = useState((monitor?.regions ?? ['global']).join(', '));
  const [enabled, setEnabled] = useState(monitor?.enabled ?? true);
  const [errors, setErrors] = useState<Partial<Record<Field | 'form', string>>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const input = {
      name,
      type,
      url,
      method,
      intervalMs: String(Math.round(Number(intervalS) * 1000)),
      timeoutMs: String(Math.round(Number(timeoutS) * 1000)),
      assertions: assertions.split('\n').map((a) => a.trim()).filter(Boolean),
      regions: regions.split(',').map((r) => r.trim()).filter(Boolean),
      enabled,
      optionsJson: monitor?.optionsJson ?? '',
    };
    const bad: Partial<Record<Field, string>> = {};
    if (!Number.isFinite(Number(intervalS)) || intervalS.trim() === '') bad.interval_ms = 'interval: a number of seconds';
    if (!Number.isFinite(Number(timeoutS)) || timeoutS.trim() === '') bad.timeout_ms = 'timeout: a number of seconds';
    if (Object.keys(bad).length > 0) return setErrors(bad);
    setBusy(true);
    setErrors({});
    try {
      const r = monitor
        ? await rpc<{ monitor: Monitor }>('MonitorsService', 'UpdateMonitor', { id: monitor.id, monitor: input })
        : await rpc<{ monitor: Monitor }>('MonitorsService', 'CreateMonitor', { monitor: input });
      onSaved(r.monitor);
    } catch (err) {
      const msg = err instanceof ApiError ? err.message : String(err);
      const f = fieldOf(msg);
      setErrors(f ? { [f]: msg } : { form: msg });
    } finally {
      setBusy(false);
    }
  };

  const err = (f: Field) =>
    errors[f] !== undefined && (
      <span className="field-error" role="alert" data-field={f}>
        {errors[f]}
      </span>
    );
  return (
    <form className="card" onSubmit={(e) => void submit(e)} aria-label={monitor ? 'Edit monitor' : 'New monitor'}>
      <h2>{monitor ? `Edit ${monitor.name}` : 'New monitor'}</h2>
      <div className="form">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required />
          {err('name')}
        </label>
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.target.value)}>
            {['http', 'tcp', 'dns', 'tls'].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          {err('type')}
        </label>
        <label>
          URL
          <input value={url} onChange={(e) => setUrl(e.target.value)} />
          {err('url')}
        </label>
        <label>
          Method
          <input value={method} onChange={(e) => setMethod(e.target.value)} />
          {err('method')}
        </label>
        <label>
          Interval (seconds)
          <input value={intervalS} onChange={(e) => setIntervalS(e.target.value)} inputMode="decimal" />
          {err('interval_ms')}
        </label>
        <label>
          Timeout (seconds)
          <input value={timeoutS} onChange={(e) => setTimeoutS(e.target.value)} inputMode="decimal" />
          {err('timeout_ms')}
        </label>
        <label>
          Regions (comma-separated)
          <input value={regions} onChange={(e) => setRegions(e.target.value)} />
          {err('regions')}
        </label>
        <label>
          Assertions (one a line, e.g. status == 200)
          <textarea rows={3} value={assertions} onChange={(e) => setAssertions(e.target.value)} />
          {err('assertions')}
        </label>
        <label className="inline">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
        </label>
      </div>
      {errors.form !== undefined && (
        <p className="error" role="alert">
          {errors.form}
        </p>
      )}
      {errors.options_json !== undefined && <p className="error">{errors.options_json}</p>}
      <div className="row" style={{ marginTop: 10 }}>
        <button type="submit" disabled={busy}>
          {monitor ? 'Save' : 'Create monitor'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
